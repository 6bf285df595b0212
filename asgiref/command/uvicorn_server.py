"""
The uvicorn front of the asgiref command: uvicorn running an ASGI 3
application with the options of the waitress front (``waitress_server``), read
the same way. Python 3.9+ only.
"""
import logging
import os

from ..bridge.defaults import CHANNEL_TIMEOUT, CONNECTION_LIMIT, HOST, PORT
from ..bridge.layer_calls import clock
from .waitress_server import listening_socket, server_url

access_log = logging.getLogger("asgiref.access")


class UvicornServer(object):
    """
    uvicorn serving ``application`` on ``host:port`` (port 0: any free one)
    or on the Unix socket ``unix_socket``. ``connection_limit``: beyond it
    uvicorn answers 503 (its own limit counts the connection asking) (waitress makes connections wait instead);
    ``channel_timeout``: seconds an idle keep-alive connection stays open.
    Raises ImportError without uvicorn and OSError when the address cannot
    be listened on.
    """

    def __init__(self, application, host=HOST, port=PORT, unix_socket=None, connection_limit=CONNECTION_LIMIT,
                 channel_timeout=CHANNEL_TIMEOUT):
        try:
            import uvicorn
        except ImportError:
            raise ImportError('the uvicorn front needs uvicorn: pip install ".[serve]" in a checkout (Python 3.9+)')
        self._listener = listening_socket(host, port, unix_socket)
        self.host = host
        self.unix_socket = unix_socket
        self.port = None if unix_socket else self._listener.getsockname()[1]
        # Logging is decided once: with access logs off, requests pay nothing for them.
        if access_log.isEnabledFor(logging.INFO):
            application = AccessLog(application)
        config = uvicorn.Config(
            application, log_config=None, lifespan="on", access_log=False,
            limit_concurrency=connection_limit and connection_limit + 1, timeout_keep_alive=channel_timeout,
            server_header=False)
        self._server = uvicorn.Server(config)
        self._deadline = None

    @property
    def url(self):
        return server_url(self.host, self.port, self.unix_socket)

    def stop(self):
        """Make :meth:`serve` stop after the requests in flight; safe from any thread."""
        self._server.should_exit = True

    def drain_time_left(self):
        """Seconds left of the drain timeout once :meth:`serve` has begun to stop (0 when it is over)."""
        if self._deadline is None:
            return 0.0
        return max(0.0, self._deadline - clock())

    def serve(self, drain_timeout):
        """
        Serve until :meth:`stop`, SIGINT or SIGTERM (a second one stops at
        once); then stop accepting and give the requests in flight up to
        ``drain_timeout`` seconds. True if none was cut short.
        """
        server = self._server
        server.config.timeout_graceful_shutdown = drain_timeout
        self._deadline = None
        shutdown = server.shutdown

        async def timed_shutdown(*args, **kwargs):
            self._deadline = clock() + drain_timeout
            await shutdown(*args, **kwargs)
        server.shutdown = timed_shutdown
        try:
            server.run(sockets=[self._listener])
        finally:
            self._listener.close()
            if self.unix_socket and os.path.exists(self.unix_socket):
                os.unlink(self.unix_socket)
        return not server.force_exit and not any(not task.done() for task in server.server_state.tasks)


class AccessLog(object):
    """ASGI 3 middleware: one access-log line per HTTP request, as the waitress front writes it."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        started = clock()
        record = {"status": "-", "sent": 0}

        async def recording_send(event):
            if event["type"] == "http.response.start":
                record["status"] = event["status"]
            elif event["type"] == "http.response.body":
                record["sent"] += len(event.get("body", b""))
            await send(event)

        try:
            await self.application(scope, receive, recording_send)
        finally:
            # ASGI 3's path, like waitress's SCRIPT_NAME + PATH_INFO, is the whole path.
            target = scope["path"]
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            client = scope.get("client")
            access_log.info('%s "%s %s HTTP/%s" %s %d %.3fs', client[0] if client else "-", scope["method"], target,
                            scope.get("http_version", "1.1"), record["status"], record["sent"],
                            clock() - started)
