"""
The HTTP half of the ASGI 3 front: one ASGI 3 ``http`` scope served through
a channel layer as ASGI 1 ``http.*`` messages (spec section 5), on the
bridge's core (:class:`asgiref.bridge.Exchange`), so the guarantees of the
WSGI front hold here too: a reply channel of its own per request, a body
sent only as fast as the application takes it, a cut-off response aborted,
``http.disconnect`` when the client leaves. Python 3.9+ only.
"""
import asyncio
import logging

from .asgi3_layer import receive_by
from .bridge import BadResponse, Exchange, Refused, ResponseAborted
from .http_checks import PLAIN_TEXT, RETRY_LATER
from .layer_calls import LayerFailed, Patience, clock, layer_call
from .wsgi_front import _BODY_RETRY as BODY_RETRY
from .wsgi_mapping import status_line

logger = logging.getLogger("asgiref.asgi3")


class ClientGone(Exception):
    """The client closed the connection before its request was whole."""


def request_from_scope(scope):
    """The ``http.request`` message of an ASGI 3 ``http`` scope, without body or channels."""
    request = {
        "http_version": scope.get("http_version", "1.1"),
        "method": scope["method"].upper(),
        "scheme": scope.get("scheme", "http"),
        # ASGI 3's path, like ASGI 1's, includes root_path.
        "path": scope["path"],
        "root_path": scope.get("root_path", ""),
        "query_string": scope.get("query_string", b""),
        "headers": [[bytes(name).lower(), bytes(value)] for name, value in scope.get("headers", ())],
    }
    for key in ("client", "server"):
        address = scope.get(key)
        # A Unix socket has no port: ASGI 1's [host, port] cannot say it.
        if address and isinstance(address[1], int):
            request[key] = [address[0], address[1]]
    return request


def content_length(headers):
    """The Content-Length of ``headers`` (ASGI 1 pairs) as an int, None without one; ValueError if bad."""
    for name, value in headers:
        if name == b"content-length":
            length = int(value)
            if length < 0:
                raise ValueError(value)
            return length
    return None


class BodyReader(object):
    """An ASGI 3 request body as ``(chunk, more)`` pairs of at most ``chunk_size`` bytes."""

    def __init__(self, receive, chunk_size, limit):
        self.receive = receive
        self.chunk_size = chunk_size
        self.limit = limit
        self.total = 0
        self._data = b""
        self._more = True

    async def next(self):
        """The next chunk; raises ClientGone, or Refused(413) past the limit."""
        while self._more and len(self._data) <= self.chunk_size:
            event = await self.receive()
            if event["type"] == "http.disconnect":
                raise ClientGone()
            data = event.get("body", b"")
            self.total += len(data)
            if self.limit is not None and self.total > self.limit:
                raise Refused(413, "The request body is over %d bytes." % self.limit)
            self._data += data
            self._more = event.get("more_body", False)
        chunk, self._data = self._data[:self.chunk_size], self._data[self.chunk_size:]
        return chunk, bool(self._data) or self._more


class HttpRelay(object):
    """One request's round trip: the request and body out, the response back to the server."""

    def __init__(self, front, scope, receive, send):
        self.front = front
        self.scope = scope
        self.receive = receive
        self.send = send
        self.exchange = None
        self._client_gone = False
        self._over = False

    async def run(self):
        front = self.front
        request = request_from_scope(self.scope)
        try:
            length = content_length(request["headers"])
        except ValueError:
            return await self._error(400, "The Content-Length header is not a number.")
        if length is not None and front.max_body_size is not None and length > front.max_body_size:
            return await self._error(413, "The request body is over %d bytes." % front.max_body_size)
        self.exchange = exchange = Exchange(front.channel_layer, front.prefixes, request["path"], front.outage)
        watcher = None
        try:
            try:
                try:
                    first = await self._send_request(request)
                except LayerFailed as failure:
                    raise front.unavailable(failure)
            except Refused as refusal:
                return await self._error(refusal.status, refusal.text)
            except ClientGone:
                return
            front.outage.succeeded()
            # From here the client's leaving is only seen by watching for it.
            watcher = asyncio.ensure_future(self._watch(asyncio.current_task()))
            try:
                await self._relay(first)
            except asyncio.CancelledError:
                if not self._client_gone:
                    raise
        finally:
            # No await from here on: the watcher cancels only while relaying.
            self._over = True
            if watcher is not None:
                watcher.cancel()
            exchange.close()

    async def _send_request(self, request):
        """
        Send the request and its body; return the first response message if
        it came while the application was not taking the body, else None.
        """
        front = self.front
        exchange = self.exchange
        body = BodyReader(self.receive, front.body_chunk_size, front.max_body_size)
        request["body"], more = await body.next()
        exchange.send_request(front.channel, request, more)
        while more:
            content, more = await body.next()
            patience = Patience(front.send_timeout, longest=BODY_RETRY)
            while not exchange.offer_body(content, more):
                # The application is not taking the body: if it has answered
                # anyway, the rest is not sent.
                first = exchange.poll()
                if first is not None:
                    exchange.end_body()
                    return first
                delay = patience.next_delay()
                if delay is None:
                    raise Refused(504, "The application stopped reading the request body.")
                await asyncio.sleep(delay)
        return None

    async def _watch(self, relaying):
        """Cancel the relay when the client leaves, so the application is told at once."""
        while True:
            event = await self.receive()
            if event["type"] == "http.disconnect":
                if not self._over:
                    self._client_gone = True
                    relaying.cancel()
                return

    async def _relay(self, first):
        exchange = self.exchange
        try:
            message = first or await self._next()
        except (BadResponse, ResponseAborted) as problem:
            logger.error("malformed response on %s: %s", exchange.reply_channel, problem)
            return await self._error(502, "The application sent a malformed response.")
        except LayerFailed as failure:
            refusal = self.front.unavailable(failure)
            return await self._error(refusal.status, refusal.text)
        if message is None:
            return await self._error(504, "The application did not respond in time.")
        # A value's surrounding blanks are not part of it (RFC 7230), and
        # strict servers refuse them (Django's cookies start with one).
        await self.send({"type": "http.response.start", "status": message["status"],
                         "headers": [(name, value.strip()) for name, value in message.get("headers", ())]})
        while True:
            more = bool(message.get("more_content"))
            await self.send({"type": "http.response.body", "body": message.get("content", b""), "more_body": more})
            if not more:
                return
            try:
                message = await self._next()
            except BadResponse as problem:
                logger.error("malformed response chunk on %s: %s", exchange.reply_channel, problem)
                raise ResponseAborted("the application sent a malformed response chunk: %s" % problem)
            except LayerFailed as failure:
                self.front.outage.failed(failure.error)
                # The outage is logged already: the server's traceback need not chain the layer's.
                raise ResponseAborted("the channel layer failed mid-response: %s" % failure) from None
            if message is None:
                logger.error("response on %s stopped: no chunk within %ss", exchange.reply_channel,
                             self.front.response_timeout)
                raise ResponseAborted("no response chunk came within %ss" % self.front.response_timeout)

    async def _next(self):
        """
        The next message for this request (Server Push skipped), or None
        after response_timeout; LayerFailed if the layer fails.
        """
        exchange = self.exchange
        layer = self.front.channel_layer
        deadline = clock() + self.front.response_timeout
        while True:
            # A body given up while the channel was full: the closed chunk
            # goes as soon as there is room, so the application stops reading.
            exchange.end_body()
            with layer_call(layer):
                channel, message = await receive_by(layer, [exchange.reply_prefix], deadline)
            if channel is not None:
                message = exchange.accept(channel, message)
                if message is not None:
                    return message
            elif clock() >= deadline:
                return None

    async def _error(self, status, text):
        body = ("%d %s\n%s\n" % (status, status_line(status)[4:], text)).encode("utf-8")
        # A 503 is for a while: the client is told when to try again.
        await self.send({"type": "http.response.start", "status": status,
                         "headers": PLAIN_TEXT + (RETRY_LATER if status == 503 else [])
                         + [[b"content-length", str(len(body)).encode("ascii")]]})
        await self.send({"type": "http.response.body", "body": body})
