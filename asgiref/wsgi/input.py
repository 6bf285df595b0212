"""
What a WSGI application behind the bridge reads and writes besides the
response: ``wsgi.input``, streamed from the body channel, and ``wsgi.errors``.
"""
from __future__ import unicode_literals

import logging

from ..bridge.layer_calls import LayerFailed, clock, drain, layer_call, receive_blocking

logger = logging.getLogger("asgiref.wsgi")


class RequestAborted(IOError):
    """Reading the request body failed: the client went away, or the body stopped arriving."""


class RequestBody(object):
    """
    wsgi.input: the request's ``body``, then its ``body_channel`` chunks as
    they arrive. A layer that fails under a read raises RequestAborted, and
    ``failure`` keeps the LayerFailed.
    """

    def __init__(self, channel_layer, body, body_channel, timeout):
        self._layer = channel_layer
        self._buffer = bytearray(body)
        self._channel = body_channel
        self._more = body_channel is not None
        self._timeout = timeout
        self.failure = None

    def read(self, size=-1):
        if size is None or size < 0:
            while self._more:
                self._buffer += self._next_chunk()
            size = len(self._buffer)
        else:
            while self._more and len(self._buffer) < size:
                self._buffer += self._next_chunk()
        return self._take(size)

    def readline(self, size=-1):
        if size is None:
            size = -1
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                end += 1
                break
            if not self._more or 0 <= size <= len(self._buffer):
                end = len(self._buffer)
                break
            searched = len(self._buffer)
            self._buffer += self._next_chunk()
        if 0 <= size < end:
            end = size
        return self._take(end)

    def readlines(self, hint=-1):
        lines = []
        total = 0
        for line in self:
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return iter(self.readline, b"")

    def discard(self):
        """Drop the body chunks that wait unread, once the application is done: nobody reads them now."""
        if self._more:
            self._more = False
            try:
                with layer_call(self._layer):
                    drain(self._layer, self._channel)
            except LayerFailed as failure:
                # The chunks expire in the layer; the worker's next receive says the layer fails.
                self.failure = self.failure or failure

    def _take(self, size):
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _next_chunk(self):
        deadline = clock() + self._timeout
        channel = None
        while channel is None:
            if clock() > deadline:
                self._more = False
                raise RequestAborted("no request body arrived on %s for %ss" % (self._channel, self._timeout))
            try:
                with layer_call(self._layer):
                    channel, message = receive_blocking(self._layer, [self._channel])
            except LayerFailed as failure:
                self._more = False
                self.failure = failure
                raise RequestAborted("the channel layer failed while the request body was read: %s" % failure)
        if message.get("closed"):
            self._more = False
            raise RequestAborted("the client went away before sending the whole request body")
        content = message.get("content", b"")
        if not isinstance(content, bytes):
            self._more = False
            raise RequestAborted("a request body chunk on %s was not bytes" % self._channel)
        self._more = bool(message.get("more_content"))
        return content


class ErrorLog(object):
    """wsgi.errors: each line the application writes becomes an error in the log."""

    def __init__(self):
        self._partial = ""

    def write(self, text):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            logger.error("%s", line)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self._partial:
            logger.error("%s", self._partial)
            self._partial = ""
