"""
``AsgiToWsgiAdapter``: serves ``http.request`` messages with a WSGI
application in worker threads, a WSGI application behind ASGI.
"""
from __future__ import unicode_literals

import collections
import logging
import threading

import six

from ..base_layer import check_positive_int, check_positive_number
from ..bridge.defaults import (
    BODY_TIMEOUT, REQUEST_CHANNEL, RESPONSE_CHUNK_SIZE, SEND_TIMEOUT, STOP_TIMEOUT, WORKER_THREADS)
from ..bridge.http_checks import PLAIN_TEXT, RETRY_LATER, UNAVAILABLE, request_problem
from ..bridge.layer_calls import LayerFailed, Outage, Patience, clock, failed_under, layer_call, receive_until
from ..bridge.threads import join_by, start_daemon_threads
from .input import ErrorLog, RequestBody
from .mapping import headers_from_wsgi, status_code, wsgi_environ

logger = logging.getLogger("asgiref.wsgi")

# A worker streaming a response takes the waiting http.disconnect messages
# at least this often (seconds), and whenever its reply channel is full.
_DISCONNECT_CHECK = 0.5


class AsgiToWsgiAdapter(object):
    """
    Serves ``http.request`` messages with a WSGI application.

    :meth:`handle` serves one message; :meth:`start` runs worker threads that
    receive on ``channel`` (and ``http.disconnect``, to stop streaming to a
    client that left). The request body is read from ``body`` and then the
    ``body_channel`` as the application reads it, waiting up to
    ``body_timeout`` seconds for each chunk. A full reply channel (a client
    slower than its application) is retried with backoff for up to
    ``send_timeout`` seconds, and meanwhile ``http.disconnect`` is checked,
    so a client that left is noticed even while every worker is busy. A
    client that left before its request was taken (its ``http.disconnect``
    came first) is not served: its application is not run.
    Response content is sent in messages of at most ``chunk_size`` bytes.
    An application that fails after its response started ends it with a
    ``closed`` chunk, so the front can abort the connection rather than
    make a cut-off response look whole. SystemExit and KeyboardInterrupt
    raised by the application in a worker thread fail that request only.

    A layer that fails (Redis away) stops no worker: each backs off (50 ms,
    doubling up to 1.6 s) and the outage is logged once, and once when it
    ends (:class:`asgiref.bridge.layer_calls.Outage`); a request the failure
    caught midway ends with one line in the log, and the front gets a 503
    or a cut-off response if the layer takes it by then.
    """

    def __init__(self, wsgi_application, channel_layer, channel=REQUEST_CHANNEL, body_timeout=BODY_TIMEOUT,
                 send_timeout=SEND_TIMEOUT, chunk_size=RESPONSE_CHUNK_SIZE):
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
        # Clients that left before their request was taken (see _disconnected).
        self._left_early = _RecentlyLeft()
        self._in_flight_lock = threading.Lock()
        #: What the worker threads log about a failing layer.
        self.outage = Outage(logger, "asgiref worker")

    def start(self, threads=WORKER_THREADS):
        """Start ``threads`` worker threads and return."""
        check_positive_int("threads", threads)
        self._stopping.clear()
        self._threads.extend(start_daemon_threads(self._serve, threads, "asgiref worker"))

    @property
    def threads(self):
        """The threads started and not stopped yet."""
        return list(self._threads)

    @property
    def busy_threads(self):
        """How many of the threads are serving a request now."""
        return len(self._in_flight)

    def stop(self, timeout=STOP_TIMEOUT):
        """
        Stop taking requests; wait up to ``timeout`` seconds for those in
        flight to finish and for the threads to end (an idle one ends when
        its current receive returns). True if no request was left unfinished.
        """
        self._stopping.set()
        deadline = clock() + timeout
        with self._state:
            while self._in_flight and clock() < deadline:
                self._state.wait(max(0, deadline - clock()))
            finished = not self._in_flight
        join_by(self._threads, deadline)
        self._threads = []
        return finished

    def run(self, threads=WORKER_THREADS):
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
        for channel, message in receive_until(self.channel_layer, channels, self._stopping, self.outage):
            try:
                if channel == "http.disconnect":
                    self._disconnected(message)
                elif channel is not None:
                    self.handle(message)
            except Exception:
                # Nothing a message does may stop the worker.
                logger.exception("worker failed; it goes on serving")

    def _disconnected(self, message):
        reply_channel = message.get("reply_channel") if isinstance(message, dict) else None
        if not isinstance(reply_channel, six.text_type):
            return
        with self._in_flight_lock:
            abandoned = self._in_flight.get(reply_channel)
            if abandoned is not None:
                abandoned[0] = True
            else:
                # The front gave up before a worker took the request (a
                # client that hangs up at once, another thread quicker to
                # receive): remembered, so its response is never sent into a
                # reply channel nobody reads, where it would wait for room.
                self._left_early.add(reply_channel)

    def _take_disconnects(self):
        """
        Note every ``http.disconnect`` waiting, without waiting for one: for a
        worker that is busy. Raises LayerFailed if the layer fails.
        """
        while True:
            with layer_call(self.channel_layer):
                channel, message = self.channel_layer.receive(["http.disconnect"], block=False)
            if channel is None:
                return
            self._disconnected(message)

    def handle(self, message):
        """Serve one ``http.request`` message: run the application, send its response."""
        reply_channel = message.get("reply_channel") if isinstance(message, dict) else None
        if not isinstance(reply_channel, six.text_type):
            logger.error("http.request without a reply channel dropped: %r", message)
            return
        # The condition is only for stop() to wait on.
        with self._in_flight_lock:
            if self._left_early.take(reply_channel):
                # Nobody waits for this answer: a flood of requests whose
                # clients hang up at once costs the workers next to nothing.
                logger.info("%s: the client went away before its request was served; not run", reply_channel)
                return
            abandoned = self._in_flight[reply_channel] = [False]
        try:
            response = _Response(self, reply_channel, abandoned)
            problem = request_problem(message)
            if problem:
                logger.error("malformed http.request for %s: %s", reply_channel, problem)
                response.send_error(400, "The request could not be understood.")
            else:
                self._run_application(message, response)
        except _Gone as gone:
            if gone.client_left:
                logger.info("%s: the client went away", reply_channel)
            elif gone.failure is not None:
                response.lose(gone.failure)
            elif response.started:
                response.abandon()
        finally:
            self._in_flight.pop(reply_channel, None)
            if self._stopping.is_set():
                with self._state:
                    self._state.notify_all()

    def _run_application(self, message, response):
        body = RequestBody(self.channel_layer, message.get("body", b""), message.get("body_channel"),
                           self.body_timeout)
        try:
            environ = wsgi_environ(message, body, ErrorLog())
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
        except BaseException as error:
            if body.failure is not None:
                # Not the application's fault: the layer failed under its read.
                raise _Gone(client_left=False, failure=body.failure)
            if isinstance(error, Exception) and failed_under(self.channel_layer, error):
                # Nor is the layer failing under a call of its own.
                raise _Gone(client_left=False, failure=LayerFailed(error))
            logger.exception("%s %s failed", message["method"], message["path"])
            response.fail()
            # Signals reach the main thread alone: in a worker thread, SystemExit
            # and KeyboardInterrupt come from the application, and fail its request only.
            if not isinstance(error, Exception) and isinstance(threading.current_thread(), threading._MainThread):
                raise
        finally:
            body.discard()


class _RecentlyLeft(object):
    """
    Reply channels whose client left before their request was taken, for
    ``keep`` seconds and at most ``most`` of them: disconnects for requests
    that other worker processes serve are never taken, and must not pile up.
    """

    def __init__(self, keep=60, most=10000):
        self.keep = keep
        self.most = most
        self._channels = set()
        self._order = collections.deque()

    def add(self, channel):
        now = clock()
        self._order.append((now, channel))
        self._channels.add(channel)
        while self._order and (len(self._order) > self.most or now - self._order[0][0] > self.keep):
            self._channels.discard(self._order.popleft()[1])

    def take(self, channel):
        """Whether ``channel``'s client left early; it is forgotten."""
        if channel not in self._channels:
            return False
        self._channels.discard(channel)
        return True


class _Gone(Exception):
    """The client left, its reply channel stayed full, or the layer failed (``failure``): stop responding."""

    def __init__(self, client_left, failure=None):
        Exception.__init__(self)
        self.client_left = client_left
        self.failure = failure


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
        # Whether a message of the response reached the layer.
        self._sent = False
        self._next_check = clock() + _DISCONNECT_CHECK

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
        try:
            return self._send_patiently(message)
        except LayerFailed as failure:
            raise _Gone(client_left=False, failure=failure)

    def _send_patiently(self, message):
        layer = self.adapter.channel_layer
        if self.started and clock() >= self._next_check:
            self._next_check = clock() + _DISCONNECT_CHECK
            self.adapter._take_disconnects()
        patience = Patience(self.adapter.send_timeout)
        while not self.abandoned[0]:
            try:
                with layer_call(layer):
                    layer.send(self.reply_channel, message)
                self._sent = True
                return
            except layer.ChannelFull:
                # The client reads slower than the application writes, or has
                # left: only this request waits, and a disconnect ends the wait.
                self.adapter._take_disconnects()
                if not self.abandoned[0] and not patience.wait():
                    logger.error("reply channel %s stayed full for %ss; response abandoned",
                                 self.reply_channel, self.adapter.send_timeout)
                    raise _Gone(client_left=False)
        raise _Gone(client_left=True)

    def fail(self):
        """After an application error: a 500 if nothing was sent yet, else end what was sent."""
        try:
            if not self.started:
                self.send_error(500, "The application failed; the error is in the server's log.")
            elif not self.finished:
                self.abandon()
        except _Gone as gone:
            if gone.failure is not None:
                self.lose(gone.failure)

    def abandon(self):
        """End a started response as cut off (a ``closed`` chunk), if the reply channel has room and the layer works."""
        self.finished = True
        layer = self.adapter.channel_layer
        try:
            with layer_call(layer):
                layer.send(self.reply_channel, {"content": b"", "more_content": False, "closed": True})
        except layer.ChannelFull:
            logger.warning("could not tell %s that its response was cut off: channel full", self.reply_channel)
        except LayerFailed as failure:
            # The front finds the layer failing too, and aborts the response itself.
            self.adapter.outage.failed(failure.error)

    def lose(self, failure):
        """
        After the layer failed under this request: one line in the log, then
        a 503 (or, once started, the end of a cut-off response) if the layer
        takes it now; else the front finds the layer failing too.
        """
        logger.warning("%s: response %s: the channel layer failed (%s)", self.reply_channel,
                       "cut off" if self._sent else "not sent", failure)
        self.adapter.outage.failed(failure.error)
        layer = self.adapter.channel_layer
        try:
            if self._sent:
                if not self.finished:
                    self.abandon()
            else:
                self.started = self.finished = True
                with layer_call(layer):
                    layer.send(self.reply_channel, {
                        "status": 503, "headers": PLAIN_TEXT + RETRY_LATER,
                        "content": (UNAVAILABLE + "\n").encode("utf-8")})
        except (LayerFailed, layer.ChannelFull):
            pass

    def send_error(self, status, text):
        self._send({"status": status, "headers": PLAIN_TEXT, "content": text.encode("utf-8") + b"\n"})
        self.started = self.finished = True


def _check_bytes(data):
    if not isinstance(data, bytes):
        raise TypeError("the application produced %s, not bytes, as response content" % type(data).__name__)
    return data


# Lists and tuples both: asgiref 1.1-era servers (Daphne 1.x) send tuples.
