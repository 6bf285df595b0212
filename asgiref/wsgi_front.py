"""
``WsgiToAsgiAdapter``: a WSGI application that serves every request
through a channel layer, a WSGI server in front of ASGI.
"""
from __future__ import unicode_literals

import itertools
import logging

from .base_layer import check_positive_int, check_positive_number, random_name_part
from .body_chunks import BodyProblem, body_chunks
from .http_checks import PLAIN_TEXT, response_problem
from .layer_calls import clock, send_patiently
from .reply_dispatcher import ReplyDispatcher
from .wsgi_mapping import headers_to_wsgi, request_from_environ, status_line

logger = logging.getLogger("asgiref.wsgi")


class WsgiToAsgiAdapter(object):
    """
    A WSGI application that serves every request through a channel layer.

    Each request is sent on ``channel`` as an ``http.request`` message; a
    body over ``body_chunk_size`` bytes follows on a fresh body channel as it
    is read. The response comes back on a reply channel of this adapter's
    and is handed to the WSGI server chunk by chunk as it arrives.

    Errors answer for themselves: 413 for a body over ``max_body_size``
    (``None``: no limit), 503 when ``channel`` is full, 504 when no response
    (or no next chunk) comes within ``response_timeout`` seconds, 502 for a
    malformed response. When the WSGI server closes the response early, an
    ``http.disconnect`` is sent and the rest of that response is dropped.
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
        #: Every response to this adapter arrives behind this unguessable prefix.
        self.reply_prefix = "http.response.%s!" % random_name_part()
        self._replies = ReplyDispatcher(channel_layer, self.reply_prefix)
        self._serial = itertools.count()

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
        reply_channel = "%s%d" % (self.reply_prefix, next(self._serial))
        replies = self._replies.expect(reply_channel)
        try:
            failure = self._send_request(request, reply_channel, environ["wsgi.input"], length)
            if failure is not None:
                self._replies.forget(reply_channel)
                return _error(start_response, *failure)
            return _Reply(self, replies, reply_channel, request["path"]).start(start_response)
        except BaseException:
            self._replies.forget(reply_channel)
            raise

    def _send_request(self, request, reply_channel, stream, length):
        """Send the request and its body; return ``(status, text)`` of an error response, or None."""
        if length == 0:
            body, more = b"", False
        else:
            chunks = body_chunks(stream, length, self.body_chunk_size, self.max_body_size)
            try:
                body, more = next(chunks)
            except BodyProblem as problem:
                return problem.response
        request["reply_channel"] = reply_channel
        request["body"] = body
        if more:
            request["body_channel"] = self.channel_layer.new_channel("http.request.body?")
        try:
            self.channel_layer.send(self.channel, request)
        except self.channel_layer.ChannelFull:
            return 503, "The application is too busy to take this request; try again shortly."
        except self.channel_layer.MessageTooLarge:
            return 431, "The request headers are too large."
        if more:
            return self._send_body(request["body_channel"], chunks)
        return None

    def _send_body(self, body_channel, chunks):
        """Stream the rest of the body; on failure tell the application the request is abandoned."""
        try:
            for content, more in chunks:
                send_patiently(self.channel_layer, body_channel,
                                {"content": content, "more_content": more}, self.send_timeout)
            return None
        except BodyProblem as problem:
            failure = problem.response
        except self.channel_layer.ChannelFull:
            failure = 504, "The application stopped reading the request body."
        try:
            self.channel_layer.send(body_channel, {"closed": True})
        except self.channel_layer.ChannelFull:
            logger.warning("could not tell %s that its request was abandoned: channel full", body_channel)
        return failure

    def _disconnect(self, reply_channel, path):
        self._replies.forget(reply_channel)
        try:
            self.channel_layer.send("http.disconnect", {"reply_channel": reply_channel, "path": path})
        except self.channel_layer.ChannelFull:
            logger.warning("http.disconnect is full; %s was not announced", reply_channel)


class _Reply(object):
    """
    The response to one request, as it arrives: status, then content chunks.
    Once started, it is the WSGI iterable, whose close() tells a client that
    went away; a response that arrived whole in one message is handed over
    as a list instead, with nothing left to wait for.
    """

    def __init__(self, adapter, replies, reply_channel, path):
        self.adapter = adapter
        self.replies = replies
        self.reply_channel = reply_channel
        self.path = path
        self.first = None
        self.finished = False

    def start(self, start_response):
        message = self._next(first=True)
        if message is None:
            self.adapter._disconnect(self.reply_channel, self.path)
            return _error(start_response, 504, "The application did not respond in time.")
        problem = response_problem(message, first=True)
        if problem:
            logger.error("malformed response on %s: %s", self.reply_channel, problem)
            self.adapter._disconnect(self.reply_channel, self.path)
            return _error(start_response, 502, "The application sent a malformed response.")
        start_response(status_line(message["status"]), headers_to_wsgi(message.get("headers", [])))
        if not message.get("more_content"):
            # The whole response is here: nothing more to wait for or to close.
            self.adapter._replies.forget(self.reply_channel)
            content = message.get("content")
            return [content] if content else []
        self.first = message
        return self

    def _next(self, first=False):
        """The next message for this request (Server Push skipped), or None after response_timeout."""
        deadline = clock() + self.adapter.response_timeout
        while True:
            message = self.adapter._replies.next_message(self.replies, max(0, deadline - clock()))
            if message is None or not (first and "request" in message and "status" not in message):
                return message

    def __iter__(self):
        """The content of each message until one says no more content follows."""
        message = self.first
        while True:
            if message.get("content"):
                yield message["content"]
            if not message.get("more_content"):
                self.finished = True
                return
            message = self._next()
            if message is None:
                logger.error("response on %s stopped: no chunk within %ss", self.reply_channel,
                             self.adapter.response_timeout)
                return
            problem = response_problem(message, first=False)
            if problem:
                logger.error("malformed response chunk on %s: %s", self.reply_channel, problem)
                return

    def close(self):
        if self.finished:
            self.adapter._replies.forget(self.reply_channel)
        else:
            self.adapter._disconnect(self.reply_channel, self.path)


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
    start_response(status_line(status), headers_to_wsgi(PLAIN_TEXT + [
        [b"content-length", str(len(body)).encode("ascii")]]))
    return [body]
