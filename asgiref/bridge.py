"""
The bridge's core: one HTTP request's round trip through a channel layer,
seen from the HTTP side, whatever server is in front and whatever layer is
behind.

An :class:`Exchange` sends the ``http.request`` and its body chunks and
takes the response messages apart. It never blocks and never sleeps: every
method makes at most a few non-blocking layer calls. The front decides when
to wait: ``WsgiToAsgiAdapter`` waits in its WSGI thread (``receive`` with
``block=True``, short sleeps while the body channel is full); an asyncio
front would await ``receive_async`` and ``asyncio.sleep`` the same way.

A request's reply channel lies behind a process-specific prefix that no
other request in flight uses: :class:`ReplyPrefixes` lends one to each
request and takes it back when the request is over. The layer's capacity,
which applies to the prefix, so bounds what waits for one slow client, and
a full prefix makes that request's worker, and no other, wait; and a
reused prefix costs the layer nothing new (docs/backpressure.rst).
"""
from __future__ import unicode_literals

import itertools
import logging

from .base_layer import check_positive_int, check_positive_number, random_name_part
from .http_checks import UNAVAILABLE, response_problem
from .layer_calls import LayerFailed, Outage, drain, layer_call

logger = logging.getLogger("asgiref.wsgi")

#: The capacities ``asgiref serve`` gives the bridge's per-request channels:
#: what one request may have in the layer at a time, whatever the layer's
#: default capacity. At the adapters' default chunk sizes, 256 KiB of request
#: body (4 x 64 KiB) and 1 MiB of response (4 x 256 KiB).
CHANNEL_CAPACITY = {"http.request.body?*": 4, "http.response.*": 4}


class Refused(Exception):
    """The request cannot go through; ``status`` and ``text`` are the answer the client gets."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.status = status
        self.text = text


class BadResponse(Exception):
    """A response message that cannot be passed on; the message says why."""


class ResponseAborted(Exception):
    """
    The response stopped before its end: the application failed mid-stream,
    or a chunk did not come in time. Raised from the WSGI iterable, so the
    server aborts the connection and a cut-off response never looks whole.
    """


class ReplyPrefixes(object):
    """
    Process-specific reply prefixes (``http.response.RANDOM!``), each lent
    to one request at a time: as many as requests have been in flight at
    once, made on demand, reused for ever. Safe from any thread.
    """

    def __init__(self):
        self._free = []
        self._serial = itertools.count()

    def lend(self):
        """A prefix no request in flight uses, and a reply channel behind it never used before."""
        try:
            prefix = self._free.pop()
        except IndexError:
            prefix = "http.response.%s!" % random_name_part()
        return prefix, "%s%d" % (prefix, next(self._serial))

    def give_back(self, prefix):
        self._free.append(prefix)


class HttpFront(object):
    """
    What every HTTP front of the bridge (the WSGI one, the ASGI 3 one) is
    given, checked the same way: the layer, the request ``channel``, the
    timeouts, the body's limit and chunk size; and its reply prefix pool.
    """

    def __init__(self, channel_layer, channel="http.request", response_timeout=60,
                 max_body_size=1024 ** 3, body_chunk_size=64 * 1024, send_timeout=60):
        channel_layer.valid_channel_name(channel)
        self.channel_layer = channel_layer
        self.channel = channel
        self.response_timeout = check_positive_number("response_timeout", response_timeout)
        self.max_body_size = None if max_body_size is None else check_positive_int("max_body_size", max_body_size)
        self.body_chunk_size = check_positive_int("body_chunk_size", body_chunk_size)
        self.send_timeout = check_positive_number("send_timeout", send_timeout)
        self.prefixes = ReplyPrefixes()
        #: What the front logs about a failing layer (each request then gets a 503 at once).
        self.outage = Outage(logger, "asgiref interface")

    def unavailable(self, failure):
        """The Refused (503) of a request whose layer failed (LayerFailed) before its response started."""
        self.outage.failed(failure.error)
        return Refused(503, UNAVAILABLE)


class Exchange(object):
    """
    One request's messages: ``http.request`` and body chunks out, the
    response in, on ``reply_channel``, behind ``reply_prefix``, which only
    this exchange receives on until :meth:`close`. Messages behind the
    prefix for other channels are from requests that used it before; they
    are dropped.

    Every method raises LayerFailed when the layer fails (not for
    ChannelFull); :meth:`close` then tells ``outage`` instead.
    """

    def __init__(self, channel_layer, prefixes, path, outage=None):
        self.channel_layer = channel_layer
        self.prefixes = prefixes
        self.outage = outage
        self.reply_prefix, self.reply_channel = prefixes.lend()
        self.path = path
        self.body_channel = None
        #: The first response message (the status) has arrived.
        self.started = False
        #: The last response message has arrived.
        self.finished = False
        self._sent = False
        self._body_ended = True
        self._closed = False

    def send_request(self, channel, request, more_body):
        """Send ``request`` on ``channel``, with a fresh body channel if ``more_body``; raises Refused."""
        request["reply_channel"] = self.reply_channel
        if more_body:
            self.body_channel = request["body_channel"] = self.channel_layer.new_channel("http.request.body?")
            self._body_ended = False
        try:
            with layer_call(self.channel_layer):
                self.channel_layer.send(channel, request)
        except self.channel_layer.ChannelFull:
            raise Refused(503, "The application is too busy to take this request; try again shortly.")
        except self.channel_layer.MessageTooLarge:
            raise Refused(431, "The request headers are too large.")
        self._sent = True

    def offer_body(self, content, more):
        """Send the next body chunk; False if the body channel is full (the application has not taken enough yet)."""
        try:
            with layer_call(self.channel_layer):
                self.channel_layer.send(self.body_channel, {"content": content, "more_content": more})
        except self.channel_layer.ChannelFull:
            return False
        self._body_ended = not more
        return True

    def end_body(self):
        """
        Give up the rest of the body: tell the application with a ``closed``
        chunk. False if the body channel is full; then try again later.
        """
        if self._body_ended:
            return True
        try:
            with layer_call(self.channel_layer):
                self.channel_layer.send(self.body_channel, {"closed": True})
        except self.channel_layer.ChannelFull:
            return False
        self._body_ended = True
        return True

    def poll(self):
        """The next response message if one is waiting, as :meth:`accept` returns it; else None."""
        while True:
            with layer_call(self.channel_layer):
                channel, message = self.channel_layer.receive([self.reply_prefix], block=False)
            if channel is None:
                return None
            message = self.accept(channel, message)
            if message is not None:
                return message

    def accept(self, channel, message):
        """
        Check a message received behind the reply prefix and return it, or
        None for one to drop: a Server Push, or a message for a request that
        used the prefix before. Raises BadResponse for a malformed message
        and ResponseAborted for a ``closed`` one.
        """
        if channel != self.reply_channel:
            return None
        if not self.started and "request" in message and "status" not in message:
            return None
        problem = response_problem(message, first=not self.started)
        if problem:
            raise BadResponse(problem)
        if self.started and message.get("closed"):
            raise ResponseAborted("the application abandoned the response")
        self.started = True
        self.finished = not message.get("more_content")
        return message

    def close(self):
        """
        The response is over, whole or not. Drops what this request left in
        the layer: body chunks the application did not take and, for a
        response cut short, the rest of the response; then the application
        is told with ``http.disconnect`` that nobody reads any more, and the
        reply prefix goes back for another request. Later calls do nothing.
        """
        if self._closed:
            return
        # Given back twice, a prefix could be lent to two requests at once.
        self._closed = True
        try:
            if self._sent:
                with layer_call(self.channel_layer):
                    self._clean_up()
        except LayerFailed as failure:
            # What was left expires in the layer; the outage is the front's to log.
            if self.outage is not None:
                self.outage.failed(failure.error)
        finally:
            self.prefixes.give_back(self.reply_prefix)

    def _clean_up(self):
        if self.body_channel is not None:
            drain(self.channel_layer, self.body_channel)
            if not self.finished:
                # The application may still be reading: it stops at once.
                self._body_ended = False
                self.end_body()
        if not self.finished:
            drain(self.channel_layer, self.reply_prefix)
            try:
                self.channel_layer.send("http.disconnect", {"reply_channel": self.reply_channel, "path": self.path})
            except self.channel_layer.ChannelFull:
                logger.warning("http.disconnect is full; %s was not announced", self.reply_channel)
