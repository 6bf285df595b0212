"""
``ChannelLayerApplication``: an ASGI 3 application that any ASGI 3 server
(uvicorn, Hypercorn, Daphne 4, Granian) runs as the interface server of a
channel layer: each HTTP request and each WebSocket connection is carried
over the layer as ASGI 1 messages, and the replies are relayed back.

Python 3.9+ only; Python 2.7 to 3.8 keep the waitress front
(:class:`asgiref.wsgi.WsgiToAsgiAdapter`).
"""
import asyncio

from ..base_layer import check_positive_number
from ..bridge import HttpFront
from ..bridge.defaults import (
    BODY_CHUNK_SIZE, CONNECT_TIMEOUT, MAX_BODY_SIZE, REQUEST_CHANNEL, RESPONSE_TIMEOUT, SEND_TIMEOUT)
from ..bridge.layer_calls import clock
from .consumers import consume
from .http import HttpRelay
from .mailboxes import Mailboxes
from .websocket import WebSocketRelay


class ChannelLayerApplication(HttpFront):
    """
    An ASGI 3 application serving HTTP (spec section 5) and WebSocket
    (section 5b) through ``channel_layer``, which must have ``receive_async``
    (the in-memory and the Redis layers do).

    HTTP behaves as :class:`asgiref.wsgi.WsgiToAsgiAdapter` with the same
    keywords: requests go on ``channel``, a body over ``body_chunk_size``
    follows on a body channel as fast as the application takes it; 413 for
    a body over ``max_body_size`` (None: no limit), 503 when ``channel`` is
    full, 504 when no response comes within ``response_timeout`` seconds or
    the application takes no body chunk for ``send_timeout`` seconds, 502
    for a malformed response; a response that stops mid-way aborts the
    connection. Each request waits for its replies on a reply prefix of its
    own; the WebSockets' replies come through one receive per process
    (asgiref.asgi3.mailboxes); all awaited on the server's event loop.

    A WebSocket handshake waits up to ``connect_timeout`` seconds for the
    application's answer (none: refused); a frame the layer will not take
    within ``send_timeout`` seconds closes the connection with 1013.

    While the layer fails, a request gets 503 with ``Retry-After`` at once,
    a handshake is refused (503 with ``Retry-After`` where the server can
    answer a handshake over HTTP) and an open WebSocket is closed with
    1011; the outage is logged once, and once when it is over.

    ``consumers`` (an :class:`asgiref.consumers.Consumers`, not started) run
    on the server's event loop from the ASGI lifespan's startup to its
    shutdown: the fastest way to serve consumers in-process, for consumers
    that never block (a blocking one stalls every connection meanwhile).

    ``counters``, when set (``asgiref.metrics.asgi3_front.count_front``
    sets it), is told of each HTTP request and WebSocket, from inside the
    relays rather than by a middleware around them, whose extra coroutine
    per request and per event sent cost several times as much.
    """

    #: None, or what counts requests and WebSockets: ``request_started()``,
    #: ``request_answered(status, seconds)`` (``500`` if no response
    #: started) and ``websockets(change)`` (+1 on accepting one, -1 when
    #: an accepted one ends).
    counters = None
    #: The event loop it serves on, seen at the first call that is not an
    #: HTTP request (the lifespan startup, a WebSocket); None before.
    loop = None

    def __init__(self, channel_layer, channel=REQUEST_CHANNEL, response_timeout=RESPONSE_TIMEOUT,
                 max_body_size=MAX_BODY_SIZE, body_chunk_size=BODY_CHUNK_SIZE, send_timeout=SEND_TIMEOUT,
                 connect_timeout=CONNECT_TIMEOUT, consumers=None):
        if "async" not in getattr(channel_layer, "extensions", ()):
            raise TypeError("%s has no receive_async (the 'async' extension), which the ASGI 3 front needs"
                            % type(channel_layer).__name__)
        HttpFront.__init__(self, channel_layer, channel, response_timeout, max_body_size, body_chunk_size,
                           send_timeout)
        self.connect_timeout = check_positive_number("connect_timeout", connect_timeout)
        self.mailboxes = Mailboxes(channel_layer, "websocket.send.", outage=self.outage)
        self.consumers = consumers

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            relay = HttpRelay(self, scope, receive, send)
            counters = self.counters
            if counters is None:
                return await relay.run()
            began = clock()
            counters.request_started()
            try:
                await relay.run()
            finally:
                counters.request_answered(relay.status, clock() - began)
            return
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if kind == "websocket":
            await WebSocketRelay(self, scope, receive, send).run()
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise ValueError("ChannelLayerApplication serves http and websocket, not %r" % kind)

    async def _lifespan(self, receive, send):
        # The layer and its worker threads are the caller's; only consumers on this loop start here.
        consuming = None
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                if self.consumers is not None:
                    consuming = asyncio.ensure_future(consume(self.consumers))
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                if consuming is not None:
                    consuming.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return
