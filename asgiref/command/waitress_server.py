"""
The HTTP side of the ``asgiref`` command: waitress serving a WSGI
application, with an access log and a graceful stop.

waitress is the ``serve`` extra (``pip install ".[serve]" in a checkout``) and is
imported only when a server is made. Every string here is a WSGI native
string, so there are no unicode_literals.
"""
import logging
import os
import socket
import stat
import threading

from ..bridge.defaults import CHANNEL_TIMEOUT, CONNECTION_LIMIT, HOST, HTTP_THREADS, MAX_BODY_SIZE, PORT
from ..bridge.layer_calls import clock

access_log = logging.getLogger("asgiref.access")

# waitress's default number of seconds between looks for idle connections.
_CLEANUP_INTERVAL = 30


class HttpServer(object):
    """
    A threaded waitress server for ``application`` on ``host:port`` (port 0:
    any free port), or on the Unix socket ``unix_socket``. Raises ImportError without waitress and OSError when the
    address cannot be listened on.

    waitress itself answers 413 to a request whose body is over
    ``max_body_size`` bytes, before reading it. It holds at most
    ``connection_limit`` client connections (more wait to be accepted) and
    closes a connection idle for ``channel_timeout`` seconds (both waitress's
    defaults).
    """

    def __init__(self, application, host=HOST, port=PORT, threads=HTTP_THREADS, max_body_size=MAX_BODY_SIZE,
                 connection_limit=CONNECTION_LIMIT, channel_timeout=CHANNEL_TIMEOUT, unix_socket=None):
        try:
            from waitress import wasyncore
            from waitress.server import create_server
            from waitress.task import ThreadedTaskDispatcher
        except ImportError:
            raise ImportError('the HTTP server needs waitress: pip install ".[serve]" in a checkout')
        self._wasyncore = wasyncore
        # Bound first, so a failure leaves nothing of waitress's half made (no threads).
        listener = listening_socket(host, port, unix_socket)
        self._dispatcher = _draining_dispatcher(ThreadedTaskDispatcher, threads)
        # Logging is decided once: with access logs off, requests pay nothing for them.
        self.application = _AccessLog(application) if access_log.isEnabledFor(logging.INFO) else application
        self._server = create_server(
            self.application, sockets=[listener], threads=threads, _dispatcher=self._dispatcher,
            # waitress refuses a body of max_request_body_size bytes or more.
            max_request_body_size=max_body_size + 1,
            channel_timeout=channel_timeout,
            # Idle connections are looked for this often: at least once per channel_timeout.
            cleanup_interval=min(_CLEANUP_INTERVAL, channel_timeout))
        # waitress counts its listening socket and its wake-up pipe as connections.
        self._server.adj.connection_limit = connection_limit + len(self._server._map)
        self._stopping = threading.Event()
        self._deadline = None
        #: When the server's loop last began a round (a ``clock()`` time; None before it runs): its heartbeat.
        self.last_round = None
        self.host = host
        self.unix_socket = unix_socket
        self.port = None if unix_socket else int(self._server.effective_port)

    @property
    def url(self):
        return server_url(self.host, self.port, self.unix_socket)

    def stop(self):
        """Make :meth:`serve` stop; safe from any thread and from a signal handler."""
        self._stopping.set()
        # Wake the loop now rather than at the end of its current wait.
        try:
            self._server.pull_trigger()
        except OSError:
            # The loop has ended and closed its trigger: there is nothing left to wake.
            pass

    def serve(self, drain_timeout):
        """
        Serve until :meth:`stop`; then stop accepting, give the requests in
        flight up to ``drain_timeout`` seconds to be answered and sent, and
        close. Kept-alive connections take no new request meanwhile: an idle
        one is closed at once, a busy one after its response. True if no
        request was cut short.
        """
        server = self._server
        # One loop round at a time, so stopping happens between rounds, in
        # this thread, as waitress's loop is not thread-safe.
        while not self._stopping.is_set():
            self._loop_once()
        self._deadline = clock() + drain_timeout
        server.accepting = False
        self._wasyncore.dispatcher.close(server)
        self._dispatcher.draining = True
        for channel in list(server.active_channels.values()):
            _last_on_its_connection(channel)
        while True:
            self._close_idle()
            if not self._busy() or clock() >= self._deadline:
                break
            self._loop_once()
        drained = not self._busy()
        # The threads still serving were cut short: waiting for them (waitress
        # waits 5 s) would only make the stop outlast drain_timeout.
        self._dispatcher.shutdown(timeout=self.drain_time_left())
        self._wasyncore.close_all(server._map)
        if self.unix_socket and os.path.exists(self.unix_socket):
            os.unlink(self.unix_socket)
        return drained

    def drain_time_left(self):
        """Seconds left of the drain timeout once :meth:`serve` has begun to stop (0 when it is over)."""
        return max(0.0, self._deadline - clock())

    def _loop_once(self):
        self.last_round = clock()
        self._wasyncore.loop(timeout=0.5, map=self._server._map, count=1)

    def _busy(self):
        """
        Requests being received, served, queued, or with output still to send
        (waitress keeps each request in its channel's ``requests`` until it
        has been served, and the one being received in ``request``).
        """
        return any(channel.requests or channel.request is not None or channel.writable()
                   for channel in self._server.active_channels.values())

    def _close_idle(self):
        for channel in self._server.active_channels.values():
            if not (channel.requests or channel.request is not None or channel.total_outbufs_len):
                # The loop closes it in its next round; it reads nothing more.
                channel.will_close = True


def _draining_dispatcher(base, threads):
    """
    waitress's pool of ``threads`` threads; once ``draining``, each request
    it starts is the last on its connection.
    """

    class DrainingDispatcher(base):
        draining = False

        def add_task(self, channel):
            if self.draining:
                _last_on_its_connection(channel)
            base.add_task(self, channel)

    dispatcher = DrainingDispatcher()
    dispatcher.set_thread_count(threads)
    return dispatcher


def _last_on_its_connection(channel):
    """Answer the channel's requests not yet answered as if each had asked for Connection: close."""
    for request in list(channel.requests):
        request.headers["CONNECTION"] = "close"


def server_url(host, port, unix_socket=None):
    """What the start-up line shows: ``http://host:port/``, or ``unix:PATH``."""
    if unix_socket:
        return "unix:%s" % unix_socket
    return "http://%s:%d/" % ("[%s]" % host if ":" in host else host, port)


def listening_socket(host, port, unix_socket=None):
    """A socket listening on ``host:port``, or on the Unix socket path ``unix_socket`` (replacing a stale one)."""
    if unix_socket:
        if os.path.exists(unix_socket) and stat.S_ISSOCK(os.stat(unix_socket).st_mode):
            os.unlink(unix_socket)
        family, kind, protocol, address = socket.AF_UNIX, socket.SOCK_STREAM, 0, unix_socket
    else:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, protocol)
    try:
        if not unix_socket:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(1024)
    except BaseException:
        listener.close()
        raise
    return listener


class _AccessLog(object):
    """
    WSGI middleware: one access-log line per request, written when the
    server closes the response, once it has all of it.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        entry = _Entry(environ, start_response)
        try:
            result = self.application(environ, entry.start_response)
        except BaseException:
            entry.write(0)
            raise
        if type(result) is list or type(result) is tuple:
            # Still a list to the server, which sets Content-Length from a
            # single item and so keeps the connection alive.
            return _LoggedList(result, entry)
        return _LoggedIterable(result, entry)


class _Entry(object):
    """One request's access-log line, before its response is sent."""

    __slots__ = ("environ", "status", "started", "_start_response")

    def __init__(self, environ, start_response):
        self.environ = environ
        self.status = "-"
        self.started = clock()
        self._start_response = start_response

    def start_response(self, status, headers, exc_info=None):
        self.status = status.split(" ", 1)[0]
        return self._start_response(status, headers, exc_info)

    def write(self, sent):
        environ = self.environ
        target = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        access_log.info('%s "%s %s %s" %s %d %.3fs', environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD"),
                        target, environ.get("SERVER_PROTOCOL"), self.status, sent, clock() - self.started)


class _LoggedList(list):
    """The application's list or tuple, as a list; closing it writes the access-log line."""

    __slots__ = ("_entry",)

    def __init__(self, items, entry):
        list.__init__(self, items)
        self._entry = entry

    def close(self):
        self._entry.write(sum(map(len, self)))


class _LoggedIterable(object):
    """The application's other iterable, counted as it is sent; closing it writes the access-log line."""

    def __init__(self, result, entry):
        self._result = result
        self._entry = entry
        self._sent = 0

    def __iter__(self):
        for data in self._result:
            self._sent += len(data)
            yield data

    def close(self):
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            self._entry.write(self._sent)
