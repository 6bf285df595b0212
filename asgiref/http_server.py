"""
The HTTP side of the ``asgiref`` command: waitress serving a WSGI
application, with an access log and a graceful stop.

waitress is the ``serve`` extra (``pip install "asgiref[serve]"``) and is
imported only when a server is made. Every string here is a WSGI native
string, so there are no unicode_literals.
"""
import logging
import os
import socket
import stat
import threading
import time

access_log = logging.getLogger("asgiref.access")

_clock = getattr(time, "monotonic", time.time)

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

    def __init__(self, application, host="127.0.0.1", port=8000, threads=8, max_body_size=1024 ** 3,
                 connection_limit=100, channel_timeout=120, unix_socket=None):
        try:
            from waitress import wasyncore
            from waitress.server import create_server
        except ImportError:
            raise ImportError('the HTTP server needs waitress: pip install "asgiref[serve]"')
        self._wasyncore = wasyncore
        # Logging is decided once: with access logs off, requests pay nothing for them.
        self.application = _AccessLog(application) if access_log.isEnabledFor(logging.INFO) else application
        # Bound here, so a failure leaves nothing of waitress's half made.
        self._server = create_server(
            self.application, sockets=[listening_socket(host, port, unix_socket)], threads=threads,
            # waitress refuses a body of max_request_body_size bytes or more.
            max_request_body_size=max_body_size + 1,
            channel_timeout=channel_timeout,
            # Idle connections are looked for this often: at least once per channel_timeout.
            cleanup_interval=min(_CLEANUP_INTERVAL, channel_timeout))
        # waitress counts its listening socket and its wake-up pipe as connections.
        self._server.adj.connection_limit = connection_limit + len(self._server._map)
        self._stopping = threading.Event()
        self.host = host
        self.unix_socket = unix_socket
        self.port = None if unix_socket else int(self._server.effective_port)

    @property
    def url(self):
        if self.unix_socket:
            return "unix:%s" % self.unix_socket
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d/" % (host, self.port)

    def stop(self):
        """Make :meth:`serve` stop; safe from any thread and from a signal handler."""
        self._stopping.set()
        # Wake the loop now rather than at the end of its current wait.
        self._server.pull_trigger()

    def serve(self, drain_timeout):
        """
        Serve until :meth:`stop`; then stop accepting, give the requests in
        flight up to ``drain_timeout`` seconds to be answered and sent, and
        close. True if none was cut short.
        """
        server = self._server
        # One loop round at a time, so stopping happens between rounds, in
        # this thread, as waitress's loop is not thread-safe.
        while not self._stopping.is_set():
            self._loop_once()
        server.accepting = False
        self._wasyncore.dispatcher.close(server)
        deadline = _clock() + drain_timeout
        while self._busy() and _clock() < deadline:
            self._loop_once()
        drained = not self._busy()
        server.task_dispatcher.shutdown()
        self._wasyncore.close_all(server._map)
        if self.unix_socket and os.path.exists(self.unix_socket):
            os.unlink(self.unix_socket)
        return drained

    def _loop_once(self):
        self._wasyncore.loop(timeout=0.5, map=self._server._map, count=1)

    def _busy(self):
        """Requests being served, queued, or with output still to send (waitress keeps each
        request in its channel's ``requests`` until it has been served)."""
        return any(channel.requests or channel.writable() for channel in self._server.active_channels.values())


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
    """WSGI middleware: one access-log line per request."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        record = _Request(environ)

        def recording_start_response(status, headers, exc_info=None):
            record.status = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            result = self.application(environ, recording_start_response)
        except BaseException:
            record.finish()
            raise
        return _LoggedBody(result, record)


class _Request(object):
    def __init__(self, environ):
        self.environ = environ
        self.started = _clock()
        self.status = "-"
        self.sent = 0
        self.finished = False

    def finish(self):
        if self.finished:
            return
        self.finished = True
        environ = self.environ
        target = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        access_log.info('%s "%s %s %s" %s %d %.3fs', environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD"),
                        target, environ.get("SERVER_PROTOCOL"), self.status, self.sent, _clock() - self.started)


class _LoggedBody(object):
    """The application's iterable, counted; closing it writes the access-log line."""

    def __init__(self, result, record):
        self._result = result
        self._record = record

    def __iter__(self):
        for data in self._result:
            self._record.sent += len(data)
            yield data

    def close(self):
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            self._record.finish()
