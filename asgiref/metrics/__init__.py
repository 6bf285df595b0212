"""
Prometheus metrics, health checks and layer statistics for the asgiref
command's processes (``--metrics HOST:PORT``): needs the ``metrics`` extra
(``pip install ".[metrics]"`` in a checkout), which brings
``prometheus_client``. The command imports this package only when
``--metrics`` is given; nothing else in asgiref imports it.

Each process has its own :class:`~asgiref.metrics.collectors.Metrics`
(its own registry) and serves it, with ``/healthz``, ``/livez`` and, for
an in-memory layer, ``/stats``, from a daemon thread
(:class:`~asgiref.metrics.endpoint.MetricsEndpoint`). docs/metrics.rst
lists every metric.
"""
from __future__ import absolute_import

from .collectors import Metrics
from .endpoint import MetricsEndpoint
from .health import Health, Liveness
from .layer import instrument_layer
from .workers import instrument_workers
from .wsgi_front import WsgiFrontMetrics

__all__ = ["Health", "Liveness", "Metrics", "MetricsEndpoint", "WsgiFrontMetrics", "instrument_layer",
           "instrument_workers"]
