"""
WSGI on both sides of a channel layer (spec sections 5 and 6, PEP 3333).

``WsgiToAsgiAdapter`` is a WSGI application that puts each request on the
layer as an ``http.request`` message and streams back the response: a WSGI
server in front of ASGI. ``AsgiToWsgiAdapter`` serves ``http.request``
messages with a WSGI application, in worker threads: a WSGI application
behind ASGI.
"""
from __future__ import unicode_literals

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque

import six

from .base_layer import check_positive_int, check_positive_number, random_name_part
from .wakeup import Wakeup
from .wsgi_mapping import (
    headers_from_wsgi, headers_to_wsgi, request_from_environ, status_code, status_line, wsgi_environ)

logger = logging.getLogger(__name__)

_clock = getattr(time, "monotonic", time.time)

# A receive(block=True) that comes back empty sooner than this is from a
# layer that does not block (asgiref 1.1's ignored block); pause this long.
_IDLE_PAUSE = 0.01

# ChannelFull retries start at the first delay and double up to the second.
_BACKOFF = (0.001, 0.05)

_PLAIN_TEXT = [[b"content-type", b"text/plain; charset=utf-8"]]


class RequestAborted(IOError):
    """Reading the request body failed: the client went away, or the body stopped arriving."""


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
        self._replies = _ReplyDispatcher(channel_layer, self.reply_prefix)
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
            chunks = _body_chunks(stream, length, self.body_chunk_size, self.max_body_size)
            try:
                body, more = next(chunks)
            except _BodyProblem as problem:
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
                _send_patiently(self.channel_layer, body_channel,
                                {"content": content, "more_content": more}, self.send_timeout)
            return None
        except _BodyProblem as problem:
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
        problem = _response_problem(message, first=True)
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
        deadline = _clock() + self.adapter.response_timeout
        while True:
            message = self.adapter._replies.next_message(self.replies, max(0, deadline - _clock()))
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
            problem = _response_problem(message, first=False)
            if problem:
                logger.error("malformed response chunk on %s: %s", self.reply_channel, problem)
                return

    def close(self):
        if self.finished:
            self.adapter._replies.forget(self.reply_channel)
        else:
            self.adapter._disconnect(self.reply_channel, self.path)


class _ReplyDispatcher(object):
    """
    Delivers the messages sent to an adapter's reply channels.

    One receive on the reply prefix runs at a time, made by a request thread
    that is waiting (the leader): it keeps its own messages and hands the
    others to their threads; when it has what it waited for, a sleeping one
    takes over. A lone request so receives its response itself, with no
    thread switch; under load, responses are handed over as a dispatcher
    thread of its own would hand them.
    """

    def __init__(self, channel_layer, prefix):
        self.channel_layer = channel_layer
        self.prefix = prefix
        self._lock = threading.Lock()
        self._mailboxes = {}
        self._sleeping = OrderedDict()
        self._leader = None

    def expect(self, reply_channel):
        """The mailbox that will hold the messages sent to ``reply_channel``."""
        mailbox = _Mailbox()
        with self._lock:
            self._mailboxes[reply_channel] = mailbox
        return mailbox

    def forget(self, reply_channel):
        """Drop whatever comes for ``reply_channel`` from now on."""
        with self._lock:
            self._mailboxes.pop(reply_channel, None)

    def next_message(self, mailbox, timeout):
        """The next message in ``mailbox``, or None after ``timeout`` seconds."""
        deadline = _clock() + timeout
        with self._lock:
            try:
                while not mailbox.messages:
                    remaining = deadline - _clock()
                    if remaining <= 0:
                        return None
                    if self._leader is None or self._leader is mailbox:
                        self._leader = mailbox
                        self._receive_once()
                    else:
                        if mailbox.wakeup is None:
                            mailbox.wakeup = Wakeup()
                        self._sleeping[mailbox] = None
                        mailbox.wakeup.wait(self._lock, remaining)
                        self._sleeping.pop(mailbox, None)
                return mailbox.messages.popleft()
            finally:
                if self._leader is mailbox:
                    self._leader = None
                    if self._sleeping:
                        # Someone else is waiting: they receive from now on.
                        self._wake(next(iter(self._sleeping)))

    def _receive_once(self):
        """One blocking receive, the lock released meanwhile; the message goes to its mailbox."""
        self._lock.release()
        try:
            channel, message = _receive_blocking(self.channel_layer, [self.prefix])
        except Exception:
            logger.exception("receiving responses on %s failed", self.prefix)
            time.sleep(1)
            channel = None
        finally:
            self._lock.acquire()
        mailbox = self._mailboxes.get(channel) if channel is not None else None
        if mailbox is not None:
            mailbox.messages.append(message)
            self._wake(mailbox)

    def _wake(self, mailbox):
        if mailbox in self._sleeping:
            del self._sleeping[mailbox]
            mailbox.wakeup.ring()


class _Mailbox(object):
    """The messages for one reply channel, and the wake-up call of its thread, once it has slept."""

    __slots__ = ("messages", "wakeup")

    def __init__(self):
        self.messages = deque()
        self.wakeup = None


class AsgiToWsgiAdapter(object):
    """
    Serves ``http.request`` messages with a WSGI application.

    :meth:`handle` serves one message; :meth:`start` runs worker threads that
    receive on ``channel`` (and ``http.disconnect``, to stop streaming to a
    client that left). The request body is read from ``body`` and then the
    ``body_channel`` as the application reads it, waiting up to
    ``body_timeout`` seconds for each chunk. A full reply channel is retried
    with backoff for up to ``send_timeout`` seconds. Response content is
    sent in messages of at most ``chunk_size`` bytes.
    """

    def __init__(self, wsgi_application, channel_layer, channel="http.request", body_timeout=60,
                 send_timeout=60, chunk_size=256 * 1024):
        channel_layer.valid_channel_name(channel, receive=True)
        self.application = wsgi_application
        self.channel_layer = channel_layer
        self.channel = channel
        self.body_timeout = check_positive_number("body_timeout", body_timeout)
        self.send_timeout = check_positive_number("send_timeout", send_timeout)
        self.chunk_size = check_positive_int("chunk_size", chunk_size)
        limit = getattr(channel_layer, "max_message_size", None)
        if limit is not None:
            # Leave room for the status, headers and keys of a message.
            self.chunk_size = max(1, min(self.chunk_size, limit // 2))
        self._threads = []
        self._stopping = threading.Event()
        self._state = threading.Condition(threading.Lock())
        # Reply channel -> a one-item list, set True when its client leaves.
        self._in_flight = {}

    def start(self, threads=4):
        """Start ``threads`` worker threads and return."""
        check_positive_int("threads", threads)
        self._stopping.clear()
        for number in range(threads):
            thread = threading.Thread(target=self._serve, name="asgiref worker %d" % (number + 1))
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout=10):
        """
        Stop taking requests; wait up to ``timeout`` seconds for those in
        flight to finish and for the threads to end (an idle one ends when
        its current receive returns). True if no request was left unfinished.
        """
        self._stopping.set()
        deadline = _clock() + timeout
        with self._state:
            while self._in_flight and _clock() < deadline:
                self._state.wait(max(0, deadline - _clock()))
            finished = not self._in_flight
        for thread in self._threads:
            thread.join(max(0, deadline - _clock()))
        self._threads = []
        return finished

    def run(self, threads=4):
        """Serve until interrupted (KeyboardInterrupt), then stop: for the command line."""
        self.start(threads)
        try:
            while not self._stopping.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _serve(self):
        channels = [self.channel, "http.disconnect"]
        while not self._stopping.is_set():
            try:
                channel, message = _receive_blocking(self.channel_layer, channels)
                if channel == "http.disconnect":
                    self._disconnected(message)
                elif channel is not None:
                    self.handle(message)
            except Exception:
                # Nothing a message does may stop the worker.
                logger.exception("worker failed; it goes on serving")

    def _disconnected(self, message):
        abandoned = self._in_flight.get(message.get("reply_channel"))
        if abandoned is not None:
            abandoned[0] = True

    def handle(self, message):
        """Serve one ``http.request`` message: run the application, send its response."""
        reply_channel = message.get("reply_channel") if isinstance(message, dict) else None
        if not isinstance(reply_channel, six.text_type):
            logger.error("http.request without a reply channel dropped: %r", message)
            return
        # Dict operations are atomic; the condition is only for stop() to wait on.
        abandoned = self._in_flight[reply_channel] = [False]
        try:
            response = _Response(self, reply_channel, abandoned)
            problem = _request_problem(message)
            if problem:
                logger.error("malformed http.request for %s: %s", reply_channel, problem)
                response.send_error(400, "The request could not be understood.")
            else:
                self._run_application(message, response)
        except _Gone:
            logger.info("%s: the client went away", reply_channel)
        finally:
            self._in_flight.pop(reply_channel, None)
            if self._stopping.is_set():
                with self._state:
                    self._state.notify_all()

    def _run_application(self, message, response):
        body = _RequestBody(self.channel_layer, message.get("body", b""), message.get("body_channel"),
                            self.body_timeout)
        try:
            environ = wsgi_environ(message, body, _ErrorLog())
        except ValueError as error:
            logger.error("http.request for %s has no WSGI form: %s", response.reply_channel, error)
            response.send_error(400, "The request could not be understood.")
            return
        try:
            result = self.application(environ, response.start_response)
            try:
                response.stream(result, head=message["method"] == "HEAD")
            finally:
                if hasattr(result, "close"):
                    result.close()
        except _Gone:
            # The client is gone: nothing to answer; handle() notes it.
            raise
        except Exception:
            logger.exception("%s %s failed", message["method"], message["path"])
            response.fail()


class _Gone(Exception):
    """The client left, or its reply channel stayed full: stop responding."""


class _Response(object):
    """Turns start_response, write() and the application's iterable into response messages."""

    def __init__(self, adapter, reply_channel, abandoned):
        self.adapter = adapter
        self.reply_channel = reply_channel
        self.abandoned = abandoned
        self.status = None
        self.headers = None
        self.started = False
        self.finished = False

    def start_response(self, status, headers, exc_info=None):
        """PEP 3333's start_response."""
        if exc_info is not None:
            try:
                if self.started:
                    six.reraise(*exc_info)
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response() was called a second time without exc_info")
        # ValueError for a bad status or header (a CR or LF among them):
        # the application fails with a 500 and nothing of it is forwarded.
        self.status = status_code(status)
        self.headers = headers_from_wsgi(headers)
        return self.write

    def write(self, data):
        """PEP 3333's write() callable: send ``data`` at once."""
        self._send_content(_check_bytes(data), more=True)

    def stream(self, result, head=False):
        """Send every chunk of the application's iterable, then end the response."""
        known_length = isinstance(result, (list, tuple))
        items = iter(result)
        for index, data in enumerate(items):
            _check_bytes(data)
            if head:
                # The application has called start_response by now; a HEAD
                # response has no body, so the rest need not be produced.
                break
            last = known_length and index == len(result) - 1
            if data or last:
                self._send_content(data, more=not last)
                if last:
                    return
        self._send_content(b"", more=False)

    def _send_content(self, data, more):
        if self.status is None:
            raise RuntimeError("the application sent content before calling start_response()")
        if self.finished:
            return
        size = self.adapter.chunk_size
        start = 0
        while len(data) - start > size:
            self._send_piece(data[start:start + size], True)
            start += size
        self._send_piece(data[start:] if start else data, more)
        self.finished = not more

    def _send_piece(self, data, more):
        if self.started:
            self._send({"content": data, "more_content": more})
        else:
            self.started = True
            self._send({"status": self.status, "headers": self.headers, "content": data, "more_content": more})

    def _send(self, message):
        if self.abandoned[0]:
            raise _Gone()
        try:
            _send_patiently(self.adapter.channel_layer, self.reply_channel, message, self.adapter.send_timeout)
        except self.adapter.channel_layer.ChannelFull:
            logger.error("reply channel %s stayed full for %ss; response abandoned",
                         self.reply_channel, self.adapter.send_timeout)
            raise _Gone()

    def fail(self):
        """After an application error: a 500 if nothing was sent yet, else end what was sent."""
        try:
            if not self.started:
                self.send_error(500, "The application failed; the error is in the server's log.")
            elif not self.finished:
                self._send({"content": b"", "more_content": False})
        except _Gone:
            pass

    def send_error(self, status, text):
        self._send({"status": status, "headers": _PLAIN_TEXT, "content": text.encode("utf-8") + b"\n"})
        self.started = self.finished = True


class _RequestBody(object):
    """wsgi.input: the request's ``body``, then its ``body_channel`` chunks as they arrive."""

    def __init__(self, channel_layer, body, body_channel, timeout):
        self._layer = channel_layer
        self._buffer = bytearray(body)
        self._channel = body_channel
        self._more = body_channel is not None
        self._timeout = timeout

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

    def _take(self, size):
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _next_chunk(self):
        deadline = _clock() + self._timeout
        channel = None
        while channel is None:
            if _clock() > deadline:
                self._more = False
                raise RequestAborted("no request body arrived on %s for %ss" % (self._channel, self._timeout))
            channel, message = _receive_blocking(self._layer, [self._channel])
        if message.get("closed"):
            self._more = False
            raise RequestAborted("the client went away before sending the whole request body")
        content = message.get("content", b"")
        if not isinstance(content, bytes):
            self._more = False
            raise RequestAborted("a request body chunk on %s was not bytes" % self._channel)
        self._more = bool(message.get("more_content"))
        return content


class _ErrorLog(object):
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


class _BodyProblem(Exception):
    """The request body cannot be passed on; ``response`` is the error to answer with."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.response = status, text


def _body_chunks(stream, length, chunk_size, limit):
    """
    Yield ``(chunk, more)`` for a request body of ``length`` bytes (None:
    read to the end of a terminated input), at most ``chunk_size`` each.
    """
    remaining = length
    total = 0
    chunk = None
    while True:
        want = chunk_size if remaining is None else min(chunk_size, remaining)
        try:
            data = stream.read(want) if want else b""
        except (IOError, OSError) as error:
            raise _BodyProblem(400, "Reading the request body failed: %s" % error)
        if remaining is not None:
            if len(data) < want:
                raise _BodyProblem(400, "The request body ended after %d of %d bytes."
                                   % (length - remaining + len(data), length))
            remaining -= len(data)
        total += len(data)
        if limit is not None and total > limit:
            raise _BodyProblem(413, "The request body is over %d bytes." % limit)
        if chunk is not None:
            yield chunk, bool(data)
            if not data:
                return
        elif not data:
            yield b"", False
            return
        chunk = data
        if remaining == 0:
            yield chunk, False
            return


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
    start_response(status_line(status), headers_to_wsgi(_PLAIN_TEXT + [
        [b"content-length", str(len(body)).encode("ascii")]]))
    return [body]


def _check_bytes(data):
    if not isinstance(data, bytes):
        raise TypeError("the application produced %s, not bytes, as response content" % type(data).__name__)
    return data


# Lists and tuples both: asgiref 1.1-era servers (Daphne 1.x) send tuples.
_SEQUENCE = (list, tuple)

_REQUEST_TYPES = {
    "method": six.text_type, "path": six.text_type, "query_string": bytes, "root_path": six.text_type,
    "scheme": six.text_type, "http_version": six.text_type, "body": bytes, "body_channel": six.text_type,
    "headers": _SEQUENCE, "client": _SEQUENCE, "server": _SEQUENCE,
}


def _request_problem(message):
    """Why an http.request message cannot be served, or None."""
    if "method" not in message or "path" not in message:
        return "no method or no path"
    for key, value in message.items():
        kind = _REQUEST_TYPES.get(key)
        if kind is not None and not isinstance(value, kind):
            return "%r is %s" % (key, type(value).__name__)
    for key in ("client", "server"):
        pair = message.get(key)
        if pair is not None and not (len(pair) == 2 and isinstance(pair[1], six.integer_types)):
            return "%r is not a [host, port] pair" % key
    return _headers_problem(message.get("headers", ()))


def _response_problem(message, first):
    """Why a response message cannot be passed on, or None."""
    if first:
        status = message.get("status")
        if not isinstance(status, six.integer_types) or isinstance(status, bool) or not 100 <= status <= 999:
            return "status %r is not an HTTP status code" % (status,)
        headers = message.get("headers", ())
        if not isinstance(headers, _SEQUENCE):
            return "headers are %s, not a list" % type(headers).__name__
        problem = _headers_problem(headers)
        if problem:
            return problem
    if not isinstance(message.get("content", b""), bytes):
        return "content is %s, not bytes" % type(message["content"]).__name__
    if not isinstance(message.get("more_content", False), bool):
        return "more_content is %s, not bool" % type(message["more_content"]).__name__
    return None


def _headers_problem(headers):
    """Why ``headers`` are not ``[name, value]`` byte-string pairs without line breaks, or None."""
    for header in headers:
        if not (isinstance(header, _SEQUENCE) and len(header) == 2
                and isinstance(header[0], bytes) and isinstance(header[1], bytes)):
            return "header %r is not a [name, value] pair of byte strings" % (header,)
        both = header[0] + header[1]
        if b"\r" in both or b"\n" in both:
            return "header %r contains a line break" % (header,)
    return None


def _receive_blocking(channel_layer, channels):
    """
    One ``receive(block=True)``. A layer that comes back empty at once (one
    that ignores block) gets a short pause, so callers looping do not spin.
    """
    started = _clock()
    channel, message = channel_layer.receive(channels, block=True)
    if channel is None and _clock() - started < _IDLE_PAUSE:
        time.sleep(_IDLE_PAUSE)
    return channel, message


def _send_patiently(channel_layer, channel, message, timeout):
    """Send, retrying with backoff while the channel is full, for up to ``timeout`` seconds."""
    deadline = None
    delay = _BACKOFF[0]
    while True:
        try:
            return channel_layer.send(channel, message)
        except channel_layer.ChannelFull:
            if deadline is None:
                deadline = _clock() + timeout
            if _clock() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, _BACKOFF[1])
