"""
``WsgiToAsgiAdapter``: a WSGI application that serves every request
through a channel layer, a WSGI server in front of ASGI.
"""
from __future__ import unicode_literals

from ..bridge import Exchange, HttpFront, Refused, error_answer, perform
from .body_chunks import BodyProblem, body_chunks
from .mapping import headers_to_wsgi, request_from_environ, status_line


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

    As in asgiref 1.1, a subclass may define ``get_reply_channel()``: each
    request's response is then received on the channel it returns (on its
    prefix, for a process-specific one), which no other request in flight
    may use. An environ without ``wsgi.input`` is a request without a body.
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
        if "wsgi.input" not in environ:
            # asgiref 1.1's adapter read no body, and its tests leave the input out.
            length = 0
        elif length is None and not environ.get("wsgi.input_terminated"):
            # Without a length only a terminated input can be read to its end.
            length = 0
        if length == 0:
            body = iter([(b"", False)])
        else:
            body = body_chunks(environ["wsgi.input"], length, self.body_chunk_size, self.max_body_size)
        exchange = Exchange(self.channel_layer, self.prefixes, request["path"], self.outage,
                            self._chosen_reply_channel())
        try:
            first = perform(self.channel_layer, exchange.sending(self.channel, request, self.send_timeout), body)
            message = perform(self.channel_layer, exchange.response(self.response_timeout, first))
        except (Refused, BodyProblem) as refusal:
            exchange.close()
            return _error(start_response, *_answer(refusal))
        except BaseException:
            exchange.close()
            raise
        start_response(status_line(message["status"]), headers_to_wsgi(message.get("headers", [])))
        if exchange.finished:
            exchange.close()
            content = message.get("content")
            return [content] if content else []
        return _Reply(self, exchange, message)

    def _chosen_reply_channel(self):
        """The channel a subclass's ``get_reply_channel()`` returns, or None to use one behind a lent prefix."""
        hook = getattr(self, "get_reply_channel", None)
        return None if hook is None else hook()


def _answer(refusal):
    return refusal.response if isinstance(refusal, BodyProblem) else (refusal.status, refusal.text)


class _Reply(object):
    """
    The WSGI iterable of a response that has started and not finished: the
    content of each message as it arrives. Its close() ends the exchange,
    telling the application if its client went away.
    """

    def __init__(self, adapter, exchange, first):
        self.adapter = adapter
        self.exchange = exchange
        self.first = first

    def __iter__(self):
        """The content of each message until one says no more content follows; raises ResponseAborted if
        the response stops before that."""
        message, self.first = self.first, None
        while True:
            if message.get("content"):
                yield message["content"]
            if not message.get("more_content"):
                return
            message = perform(self.adapter.channel_layer, self.exchange.response(self.adapter.response_timeout))

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
    status, headers, body = error_answer(status, text)
    start_response(status_line(status), headers_to_wsgi(headers))
    return [body]
