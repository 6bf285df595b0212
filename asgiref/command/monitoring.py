"""
The ``--metrics HOST:PORT`` option of ``serve``, ``interface`` and
``worker``: the layer, the HTTP front and the worker threads of the
process counted in its own Prometheus registry, served with ``/healthz``
and ``/livez`` (and ``/stats`` for an in-memory layer) from a daemon
thread. ``asgiref.metrics`` (and prometheus_client) are imported only here,
only when the option is given.
"""
from __future__ import unicode_literals

import argparse

from ..bridge.layer_calls import clock

#: What --metrics says when prometheus_client is missing.
MISSING_EXTRA = '--metrics needs prometheus_client: pip install ".[metrics]" in a checkout'
#: Seconds a loop may go without a round before /livez calls it dead: far
#: above its longest idle wait (waitress's: 0.5 s), for a loaded machine.
LOOP_SILENCE = 5


def address(text):
    """The argparse type of ``--metrics``: ``HOST:PORT`` (``[::1]:PORT`` for IPv6; port 0: a free one)."""
    host, colon, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("%r is not HOST:PORT, e.g. 127.0.0.1:9100" % text)
    return host, int(port)


class Monitoring(object):
    """
    One process's metrics: :meth:`layer`, :meth:`wsgi_front` or
    :meth:`asgi3_front`, and :meth:`workers` instrument what the process
    runs; :meth:`bind` takes the port, :meth:`start` serves it. Raises ImportError with
    :data:`MISSING_EXTRA` without the ``metrics`` extra.
    """

    def __init__(self, host, port):
        try:
            from .. import metrics
        except ImportError:
            raise ImportError(MISSING_EXTRA)
        self._package = metrics
        self.host, self.port = host, port
        self.metrics = metrics.Metrics()
        self.liveness = metrics.Liveness()
        self.health = None
        self.endpoint = None
        self._layer = None

    def layer(self, layer):
        """Count ``layer``'s calls (on this instance); /healthz pings it. Call it before :meth:`bind`."""
        self._layer = self._package.instrument_layer(layer, self.metrics)
        self.health = self._package.Health(layer)
        return layer

    def wsgi_front(self, front):
        """``front`` (a WSGI application) with its requests counted."""
        return self._package.WsgiFrontMetrics(front, self.metrics)

    def asgi3_front(self, front):
        """``front`` (a ``ChannelLayerApplication``), its requests and WebSockets counted; /livez watches its loop."""
        from ..metrics.asgi3_front import count_front, loop_answers
        count_front(front, self.metrics)
        self.liveness.add(lambda: loop_answers(front, LOOP_SILENCE))
        return front

    def http_server(self, server):
        """/livez watches the waitress loop of ``server`` (the uvicorn loop is watched by :meth:`asgi3_front`)."""
        if hasattr(server, "last_round"):
            self.liveness.add(lambda: _loop_silent(server))

    def workers(self, pools):
        """Count busy and idle threads of ``pools``; /livez says when one ended."""
        self._package.instrument_workers(pools, self.metrics)
        for pool in pools:
            self.liveness.add(self._package.health.threads_alive(pool, "%s threads" % type(pool).__name__))

    @property
    def has_stats(self):
        """Whether the port answers ``/stats`` (the layer is the in-memory one, which has an ``overview``)."""
        return callable(getattr(self._layer, "overview", None))

    def bind(self):
        """Listen on the metrics port, not serving yet; socket.error if it cannot be listened on."""
        stats = getattr(self._layer, "overview", None)
        self.endpoint = self._package.MetricsEndpoint(self.host, self.port, self.metrics, self.health,
                                                      self.liveness, stats=stats)

    def start(self):
        """Serve the metrics port (see :meth:`bind`); return its URL."""
        self.endpoint.start()
        return self.endpoint.url

    def stop(self):
        if self.endpoint is not None:
            self.endpoint.stop()


def _loop_silent(server):
    if server.last_round is not None and clock() - server.last_round > LOOP_SILENCE:
        return "the HTTP server's loop has not run for %.0fs" % (clock() - server.last_round)
    return None
