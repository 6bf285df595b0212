"""
The HTTP half of the ASGI 3 front: one ASGI 3 ``http`` scope served through
a channel layer as ASGI 1 ``http.*`` messages (spec section 5), on the
bridge's core (:class:`asgiref.bridge.Exchange`), so the guarantees of the
WSGI front hold here too: a reply channel of its own per request, a body
sent only as fast as the application takes it, a cut-off response aborted,
``http.disconnect`` when the client leaves. Python 3.9+ only.
"""
import asyncio

from ..bridge import Exchange, Refused, error_answer
from .layer_calls import LayerCalls


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
    """
    An ASGI 3 request body as ``(chunk, more)`` pairs of at most
    ``chunk_size`` bytes; the events after those the application took are
    dropped (:meth:`drop`). ``ended`` is set once nothing more of the body
    will come or is worth waiting for: it has all come, or more than
    ``limit`` bytes have.
    """

    def __init__(self, receive, chunk_size, limit):
        self.receive = receive
        self.chunk_size = chunk_size
        self.limit = limit
        self.total = 0
        self.ended = asyncio.Event()
        self._data = b""
        self._more = True

    async def next(self):
        """The next chunk; raises ClientGone, or Refused(413) past the limit."""
        while self._more and len(self._data) <= self.chunk_size:
            event = await self.receive()
            if event["type"] == "http.disconnect":
                raise ClientGone()
            data = event.get("body", b"")
            if not self._count(event):
                raise Refused(413, "The request body is over %d bytes." % self.limit)
            self._data += data
        chunk, self._data = self._data[:self.chunk_size], self._data[self.chunk_size:]
        return chunk, bool(self._data) or self._more

    def drop(self, event):
        """Count an ``http.request`` event of the body that nobody will take."""
        self._data = b""
        self._count(event)

    def _count(self, event):
        """Count ``event``'s bytes; False once the body is over the limit."""
        self.total += len(event.get("body", b""))
        self._more = event.get("more_body", False)
        within = self.limit is None or self.total <= self.limit
        if not self._more or not within:
            self.ended.set()
        return within


class HttpRelay(object):
    """One request's round trip: the request and body out, the response back to the server."""

    def __init__(self, front, scope, receive, send):
        self.front = front
        self.scope = scope
        self.receive = receive
        self.send = send
        self._client_gone = False
        self._over = False
        #: The status of the response begun, 500 until one is.
        self.status = 500

    async def run(self):
        front = self.front
        request = request_from_scope(self.scope)
        try:
            length = content_length(request["headers"])
        except ValueError:
            return await self._error(400, "The Content-Length header is not a number.")
        if length is not None and front.max_body_size is not None and length > front.max_body_size:
            return await self._error(413, "The request body is over %d bytes." % front.max_body_size)
        exchange = Exchange(front.channel_layer, front.prefixes, request["path"], front.outage)
        calls = LayerCalls(front.channel_layer)
        body = BodyReader(self.receive, front.body_chunk_size, front.max_body_size)
        watcher = None
        try:
            refusal = first = None
            try:
                first = await calls.perform(exchange.sending(front.channel, request, front.send_timeout), body.next)
            except Refused as refused:
                refusal = refused
            except ClientGone:
                return
            # From here the client's leaving is only seen by watching for it.
            watcher = asyncio.ensure_future(self._watch(asyncio.current_task(), body))
            try:
                if refusal is not None:
                    await self._error(refusal.status, refusal.text, body)
                else:
                    await self._relay(exchange, calls, first, body)
            except asyncio.CancelledError:
                if not self._client_gone:
                    raise
        finally:
            # No await from here on: the watcher cancels only while relaying.
            self._over = True
            if watcher is not None:
                watcher.cancel()
            calls.close_soon(exchange)

    async def _watch(self, relaying, body):
        """
        Cancel the relay when the client leaves, so the application is told
        at once; until then, read and drop the rest of a body the
        application did not take.
        """
        while True:
            event = await self.receive()
            if event["type"] == "http.disconnect":
                if not self._over:
                    self._client_gone = True
                    relaying.cancel()
                return
            body.drop(event)

    async def _relay(self, exchange, calls, first, body):
        timeout = self.front.response_timeout
        try:
            message = await calls.perform(exchange.response(timeout, first))
        except Refused as refusal:
            return await self._error(refusal.status, refusal.text, body)
        # A value's surrounding blanks are not part of it (RFC 7230), and
        # strict servers refuse them (Django's cookies start with one).
        self.status = message["status"]
        await self.send({"type": "http.response.start", "status": message["status"],
                         "headers": [(name, value.strip()) for name, value in message.get("headers", ())]})
        while True:
            more = bool(message.get("more_content"))
            if not more:
                await self._wait_for_body_end(body)
            await self.send({"type": "http.response.body", "body": message.get("content", b""), "more_body": more})
            if not more:
                return
            message = await calls.perform(exchange.response(timeout))

    async def _wait_for_body_end(self, body):
        """
        Before the response ends, wait (up to response_timeout) until the
        client has sent the rest of its body, up to max_body_size: the
        server closes some connections once their response ends, and a
        client still sending then loses its response to a reset.
        """
        if not body.ended.is_set():
            try:
                await asyncio.wait_for(body.ended.wait(), self.front.response_timeout)
            except asyncio.TimeoutError:
                pass

    async def _error(self, status, text, body=None):
        """Answer ``status`` with ``text``; once the client has sent its ``body`` (see _wait_for_body_end), if given."""
        status, headers, content = error_answer(status, text)
        self.status = status
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        if body is not None:
            await self._wait_for_body_end(body)
        await self.send({"type": "http.response.body", "body": content})
