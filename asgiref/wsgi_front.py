"""
``WsgiToAsgiAdapter``: a WSGI application that serves every request
through a channel layer, a WSGI server in front of ASGI.
"""
from __future__ import unicode_literals

import logging

import six

from .body_chunks import BodyProblem, body_chunks
from .bridge import BadResponse, Exchange, HttpFront, Refused, ResponseAborted
from .http_checks import PLAIN_TEXT, RETRY_LATER
from .layer_calls import LayerFailed, Patience, clock, layer_call, receive_blocking
from .wsgi_mapping import headers_to_wsgi, request_from_environ, status_line

logger = logging.getLogger("asgiref.wsgi")

# The longest sleep between tries at a full body channel (seconds). The
# window is small (docs/backpressure.rst), so a long sleep would leave the
# application idle once it has taken the window: an upload slowed to a
# trickle whenever the worker was descheduled for a moment.
_BODY_RETRY = 0.005


class WsgiToAsgiAdapter(HttpFront):
    """
    A WSGI application that serves every request through a channel layer.

    Each request is sent on ``channel`` as an ``http.request`` message; a
    body over ``body_chunk_size`` bytes follows on a fresh body channel as
    fast as the application takes it. The response comes back on a reply
    channel behind a prefix no other request in flight uses, and is handed
    to the WSGI server chunk by chunk as it arrives; while the server writes a chunk to a slow client,
    the next ones wait in the layer, so the worker waits too.

    Errors answer for themselves: 413 for a body over ``max_body_size``
    (``None``: no limit), 503 with ``Retry-After`` when ``channel`` is full
    or the layer fails before the response started, 504 when no response
    comes within ``response_timeout`` seconds or the application takes no
    body chunk for ``send_timeout`` seconds, 502 for a malformed response.
    A response that stops mid-way (no next chunk within ``response_timeout``,
    a malformed or a ``closed`` chunk, the layer failing) raises ResponseAborted from the
    iterable, so the server aborts the connection. When the WSGI server
    closes the response early, an ``http.disconnect`` is sent and the rest of
    that response is dropped.
    """

    def __call__(self, environ, start_response):
        try:
            request = request_from_environ(environ)
        except ValueError as error:
            return _error(start_response, 400, "The request is malformed: %s" % error)
        try:
            length = _content_length(environ)
        except ValueError:
            return _error(start_response, 400, "The Content-Length header is not a number.")
        if length is not None and self.max_body_size is not None and length > self.max_body_size:
            return _error(start_response, 413, "The request body is over %d bytes." % self.max_body_size)
        if length is None and not environ.get("wsgi.input_terminated"):
            # Without a length only a terminated input can be read to its end.
            length = 0
        exchange = Exchange(self.channel_layer, self.prefixes, request["path"], self.outage)
        try:
            try:
                first = self._send_request(exchange, request, environ["wsgi.input"], length)
            except LayerFailed as failure:
                raise self.unavailable(failure)
        except Refused as refusal:
            exchange.close()
            return _error(start_response, refusal.status, refusal.text)
        except BaseException:
            exchange.close()
            raise
        self.outage.succeeded()
        return _Reply(self, exchange, first).start(start_response)

    def _send_request(self, exchange, request, stream, length):
        """
        Send the request and its body; return the first response message if
        it came while the application was not taking the body, else None.
        """
        if length == 0:
            body, more = b"", False
        else:
            chunks = body_chunks(stream, length, self.body_chunk_size, self.max_body_size)
            body, more = self._next_chunk(chunks)
        request["body"] = body
        exchange.send_request(self.channel, request, more)
        while more:
            content, more = self._next_chunk(chunks)
            patience = Patience(self.send_timeout, longest=_BODY_RETRY)
            while not exchange.offer_body(content, more):
                # The application is not taking the body: if it has answered
                # anyway, the rest is not sent, and this thread answers.
                try:
                    first = exchange.poll()
                except BadResponse as problem:
                    logger.error("malformed response on %s: %s", exchange.reply_channel, problem)
                    raise Refused(502, "The application sent a malformed response.")
                if first is not None:
                    exchange.end_body()
                    return first
                if not patience.wait():
                    raise Refused(504, "The application stopped reading the request body.")
        return None

    @staticmethod
    def _next_chunk(chunks):
        try:
            return next(chunks)
        except BodyProblem as problem:
            raise Refused(*problem.response)


class _Reply(object):
    """
    The response to one request, as it arrives: status, then content chunks.
    Once started, it is the WSGI iterable, whose close() ends the exchange
    (telling the application if its client went away); a response that
    arrived whole in one message is handed over as a list instead, with
    nothing left to wait for.
    """

    def __init__(self, adapter, exchange, first):
        self.adapter = adapter
        self.exchange = exchange
        self.first = first

    def start(self, start_response):
        exchange = self.exchange
        try:
            message = self.first or self._next()
        except (BadResponse, ResponseAborted) as problem:
            logger.error("malformed response on %s: %s", exchange.reply_channel, problem)
            exchange.close()
            return _error(start_response, 502, "The application sent a malformed response.")
        except LayerFailed as failure:
            exchange.close()
            refusal = self.adapter.unavailable(failure)
            return _error(start_response, refusal.status, refusal.text)
        if message is None:
            exchange.close()
            return _error(start_response, 504, "The application did not respond in time.")
        start_response(status_line(message["status"]), headers_to_wsgi(message.get("headers", [])))
        if exchange.finished:
            exchange.close()
            content = message.get("content")
            return [content] if content else []
        self.first = message
        return self

    def _next(self):
        """
        The next message for this request (Server Push skipped), or None
        after response_timeout; LayerFailed if the layer fails.
        """
        exchange = self.exchange
        deadline = clock() + self.adapter.response_timeout
        while True:
            # A body given up while the channel was full: the closed chunk
            # goes as soon as there is room, so the application stops reading.
            exchange.end_body()
            with layer_call(self.adapter.channel_layer):
                channel, message = receive_blocking(self.adapter.channel_layer, [exchange.reply_prefix])
            if channel is not None:
                message = exchange.accept(channel, message)
                if message is not None:
                    return message
            if clock() >= deadline:
                return None

    def __iter__(self):
        """The content of each message until one says no more content follows; raises ResponseAborted if
        the response stops before that."""
        message = self.first
        self.first = None
        while True:
            if message.get("content"):
                yield message["content"]
            if not message.get("more_content"):
                return
            try:
                message = self._next()
            except BadResponse as problem:
                logger.error("malformed response chunk on %s: %s", self.exchange.reply_channel, problem)
                raise ResponseAborted("the application sent a malformed response chunk: %s" % problem)
            except LayerFailed as failure:
                self.adapter.outage.failed(failure.error)
                # The outage is logged already: the server's traceback need not chain the layer's.
                six.raise_from(ResponseAborted("the channel layer failed mid-response: %s" % failure), None)
            if message is None:
                logger.error("response on %s stopped: no chunk within %ss", self.exchange.reply_channel,
                             self.adapter.response_timeout)
                raise ResponseAborted("no response chunk came within %ss" % self.adapter.response_timeout)

    def close(self):
        self.exchange.close()


def _content_length(environ):
    value = environ.get("CONTENT_LENGTH")
    if not value:
        return None
    length = int(value)
    if length < 0:
        raise ValueError(value)
    return length


def _error(start_response, status, text):
    body = ("%d %s\n%s\n" % (status, status_line(status)[4:], text)).encode("utf-8")
    # A 503 is for a while: the client is told when to try again.
    start_response(status_line(status), headers_to_wsgi(PLAIN_TEXT + (RETRY_LATER if status == 503 else []) + [
        [b"content-length", str(len(body)).encode("ascii")]]))
    return [body]
