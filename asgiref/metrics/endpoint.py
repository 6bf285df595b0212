"""
The metrics port: a small HTTP server in a daemon thread of the process,
answering ``/metrics`` (Prometheus text), ``/healthz``, ``/livez`` and, for
an in-memory layer, ``/stats`` (what ``asgiref stats`` reads). Every string
here is a WSGI native string, so there are no unicode_literals.
"""
from __future__ import absolute_import

import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from six.moves import socketserver

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class MetricsEndpoint(object):
    """
    Serves ``metrics`` (a :class:`~asgiref.metrics.Metrics`), ``health``
    (a :class:`~asgiref.metrics.Health`) and ``liveness`` (a
    :class:`~asgiref.metrics.Liveness`) on ``host:port`` (0: a free port),
    a thread per request. ``stats``, if given, is a callable returning
    what waits in the layer, served as JSON at ``/stats``. Binding
    happens here (socket.error if the address is taken); :meth:`start`
    serves.
    """

    def __init__(self, host, port, metrics, health, liveness, stats=None):
        self.metrics = metrics
        self.health = health
        self.liveness = liveness
        self.stats = stats
        self._server = make_server(host, port, self.application, server_class=_ThreadingServer,
                                   handler_class=_QuietHandler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d/" % ("[%s]" % self.host if ":" in self.host else self.host, self.port)

    def start(self):
        """Serve from a daemon thread, which never holds the process up at its end."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="asgiref metrics")
        self._thread.daemon = True
        self._thread.start()

    def stop(self):
        """Stop serving and close the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def application(self, environ, start_response):
        """The endpoint as a WSGI application."""
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", "GET only\n", [("Allow", "GET, HEAD")])
        if path == "/metrics":
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [generate_latest(self.metrics.registry)]
        if path == "/healthz":
            return _checked(start_response, self.health.check())
        if path == "/livez":
            return _checked(start_response, self.liveness.check())
        if path == "/stats" and self.stats is not None:
            body = json.dumps(self.stats(), sort_keys=True)
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode("utf-8")]
        if path == "/stats":
            return _answer(start_response, "404 Not Found", "no /stats here: this process's layer is not the "
                                                            "in-memory one (asgiref stats reads a Redis layer "
                                                            "from the server: --layer redis://...)\n")
        return _answer(start_response, "404 Not Found", "not found: /metrics, /healthz, /livez%s\n"
                       % (", /stats" if self.stats is not None else ""))


def _checked(start_response, outcome):
    ok, text = outcome
    return _answer(start_response, "200 OK" if ok else "503 Service Unavailable", text + "\n")


def _answer(start_response, status, text, headers=()):
    start_response(status, _TEXT + list(headers))
    return [text.encode("utf-8")]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    # A probe waiting for a ping must not hold up a scrape.
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        # Every scrape and probe would be a line on stderr.
        pass
