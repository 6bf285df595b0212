"""
The metrics of one asgiref process, in a registry of its own (never the
global one, so two layers or two tests in one process never mix counts).
"""
from __future__ import absolute_import, unicode_literals

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Upper bounds of the request duration histogram (seconds).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: Upper bounds of the layer call histogram (seconds): an in-memory call
#: takes microseconds, a Redis round trip a fraction of a millisecond, a
#: waiting receive up to the layer's receive timeout.
LAYER_CALL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics(object):
    """Every metric an asgiref process exposes, registered in :attr:`registry`, its own."""

    def __init__(self):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        # The HTTP fronts.
        self.http_requests = Counter(
            "asgiref_http_requests", "HTTP requests answered by this front, by status code",
            ["status"], registry=registry)
        self.http_request_duration = Histogram(
            "asgiref_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response", buckets=REQUEST_BUCKETS,
            registry=registry)
        self.http_requests_in_flight = Gauge(
            "asgiref_http_requests_in_flight", "HTTP requests being answered now", registry=registry)
        self.websocket_connections = Gauge(
            "asgiref_websocket_connections", "WebSocket connections open now (accepted, not yet closed)",
            registry=registry)
        # The layer, as this process calls it.
        self.layer_messages_sent = Counter(
            "asgiref_layer_messages_sent", "Messages this process stored on the layer (a group send: one per "
            "member that got it)", registry=registry)
        self.layer_messages_received = Counter(
            "asgiref_layer_messages_received", "Messages this process received from the layer", registry=registry)
        self.layer_channel_full = Counter(
            "asgiref_layer_channel_full", "Sends the layer refused because the channel was at capacity (each "
            "try counts), and group members that missed a group send for the same reason", registry=registry)
        self.layer_errors = Counter(
            "asgiref_layer_errors", "Layer calls that failed (the layer unreachable or broken), by call",
            ["call"], registry=registry)
        self.layer_call_duration = Histogram(
            "asgiref_layer_call_duration_seconds", "Seconds each layer call took, by call (receive_wait: a "
            "receive that waits for a message)", ["call"], buckets=LAYER_CALL_BUCKETS, registry=registry)
        # The worker threads.
        self.worker_threads_busy = Gauge(
            "asgiref_worker_threads_busy", "Worker threads handling a request or message now", registry=registry)
        self.worker_threads_idle = Gauge(
            "asgiref_worker_threads_idle", "Worker threads alive and waiting for a request or message",
            registry=registry)
