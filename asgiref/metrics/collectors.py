"""
The metrics of one asgiref process: :class:`Metrics` holds the tallies
that the fronts, the layer and the worker threads update, and a registry
of its own (never the global one, so two layers or two tests in one
process never mix counts) whose collector turns them into Prometheus
metric families at each scrape.
"""
from __future__ import absolute_import, unicode_literals

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from .tallies import Counts, Level, Timings

#: Upper bounds of the request duration histogram (seconds).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: Upper bounds of the layer call histogram (seconds): an in-memory call
#: takes microseconds, a Redis round trip a fraction of a millisecond, a
#: waiting receive up to the layer's receive timeout.
LAYER_CALL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

# The layer's message counts, keys of Metrics.layer_messages.
SENT, RECEIVED, CHANNEL_FULL = "sent", "received", "channel_full"


class Metrics(object):
    """Every metric an asgiref process exposes, as tallies, scraped through :attr:`registry`."""

    def __init__(self):
        #: HTTP requests answered, by status code (text or number), and their durations (under the key None).
        self.http_requests = Counts()
        self.http_request_duration = Timings(REQUEST_BUCKETS)
        self.http_requests_in_flight = Level()
        self.websocket_connections = Level()
        #: The layer's messages: SENT, RECEIVED, CHANNEL_FULL.
        self.layer_messages = Counts(SENT, RECEIVED, CHANNEL_FULL)
        #: Failed layer calls by call name, and every call's duration by call name.
        self.layer_errors = Counts()
        self.layer_call_duration = Timings(LAYER_CALL_BUCKETS)
        #: Worker threads in ``handle`` now, and a callable counting those alive (None: no worker threads).
        self.worker_threads_busy = Level()
        self.worker_threads_alive = None
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Collector(self))


class _Collector(object):
    """Reads a :class:`Metrics`' tallies at each scrape."""

    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        metrics = self.metrics
        requests = CounterMetricFamily("asgiref_http_requests", "HTTP requests answered by this front, by status "
                                       "code", labels=["status"])
        by_status = {}
        # The WSGI front counts statuses as text, the ASGI 3 front as numbers.
        for status, count in metrics.http_requests.snapshot().items():
            by_status[str(status)] = by_status.get(str(status), 0) + count
        for status, count in sorted(by_status.items()):
            requests.add_metric([status], count)
        yield requests
        yield _histogram("asgiref_http_request_duration_seconds", "Seconds from a request's arrival to the end "
                         "of its response", metrics.http_request_duration, None)
        yield GaugeMetricFamily("asgiref_http_requests_in_flight", "HTTP requests being answered now",
                                value=metrics.http_requests_in_flight.value)
        yield GaugeMetricFamily("asgiref_websocket_connections", "WebSocket connections open now (accepted, not "
                                "yet closed)", value=metrics.websocket_connections.value)
        messages = metrics.layer_messages.snapshot()
        yield CounterMetricFamily("asgiref_layer_messages_sent", "Messages this process stored on the layer (a "
                                  "group send: one per member that got it)", value=messages[SENT])
        yield CounterMetricFamily("asgiref_layer_messages_received", "Messages this process received from the "
                                  "layer", value=messages[RECEIVED])
        yield CounterMetricFamily("asgiref_layer_channel_full", "Sends the layer refused because the channel was "
                                  "at capacity (each try counts), and group members that missed a group send for "
                                  "the same reason", value=messages[CHANNEL_FULL])
        errors = CounterMetricFamily("asgiref_layer_errors", "Layer calls that failed (the layer unreachable or "
                                     "broken), by call", labels=["call"])
        for call, count in sorted(metrics.layer_errors.snapshot().items()):
            errors.add_metric([call], count)
        yield errors
        yield _histogram("asgiref_layer_call_duration_seconds", "Seconds each layer call took, by call "
                         "(receive_wait: a receive that waits for a message)", metrics.layer_call_duration, "call")
        if metrics.worker_threads_alive is not None:
            busy = metrics.worker_threads_busy.value
            yield GaugeMetricFamily("asgiref_worker_threads_busy", "Worker threads handling a request or message "
                                    "now", value=busy)
            yield GaugeMetricFamily("asgiref_worker_threads_idle", "Worker threads alive and waiting for a request "
                                    "or message", value=max(0, metrics.worker_threads_alive() - busy))


def _histogram(name, documentation, timings, label):
    family = HistogramMetricFamily(name, documentation, labels=[label] if label else None)
    bounds = [floatToGoString(bound) for bound in timings.bounds] + ["+Inf"]
    snapshot = timings.snapshot()
    if label is None and not snapshot:
        snapshot = {None: ([0] * len(bounds), 0.0)}
    for key, (cumulative, total) in sorted(snapshot.items(), key=lambda item: item[0] or ""):
        family.add_metric([key] if label else [], list(zip(bounds, cumulative)), total)
    return family
