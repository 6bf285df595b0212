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

from .tallies import Counts, Level, Tally, Timings

#: Upper bounds of the request duration histogram (seconds).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: Upper bounds of the layer call histogram (seconds): an in-memory call
#: takes microseconds, a Redis round trip a fraction of a millisecond, a
#: waiting receive up to the layer's receive timeout.
LAYER_CALL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

#: One layer call in this many, of each of a layer's methods (the first,
#: then every this-many-th), is timed; it counts as this many in the call
#: histogram, whose count and sum then estimate every call's. Timing a call
#: (two clock reads and a histogram update) adds about half again to an
#: in-memory layer's call; the counters count every call. docs/metrics.rst.
LAYER_CALL_SAMPLE = 8

# Keys of Metrics.layer_messages: the members a group send reached, or missed because their channel was full.
SENT, CHANNEL_FULL = "sent", "channel_full"

# How a layer call ended, the second half of its key in Metrics.layer_call_duration and Metrics.layer_call_ends.
#: Done: a message sent or received.
DONE = "done"
#: A receive that found no message.
EMPTY = "empty"
#: ChannelFull.
FULL = "full"
#: The caller's error (MessageTooLarge, a bad name or message): the layer is fine.
REFUSED = "refused"
#: The layer failed (unreachable or broken).
FAILED = "failed"
#: Ended by a cancellation or an interruption (not an Exception): only its time counts.
CANCELLED = "cancelled"


def call_key(call, outcome):
    """The key of Metrics.layer_call_duration for ``call`` ending with ``outcome``: one string, fast to hash."""
    return call if outcome == DONE else "%s %s" % (call, outcome)


def call_and_outcome(key):
    """The ``(call, outcome)`` of a key of Metrics.layer_call_duration."""
    call, _, outcome = key.partition(" ")
    return call, outcome or DONE


class Metrics(object):
    """Every metric an asgiref process exposes, as tallies, scraped through :attr:`registry`."""

    def __init__(self):
        #: HTTP requests answered, timed by status code (text or number): their count by status is the rows'.
        self.http_request_duration = Timings(REQUEST_BUCKETS)
        #: HTTP requests begun: those in flight are these less those answered.
        self.http_requests_started = Level()
        self.websocket_connections = Level()
        #: A sample of layer calls (:data:`LAYER_CALL_SAMPLE`), timed by :func:`call_key` of their name and
        #: outcome: DONE, EMPTY, FULL, REFUSED, FAILED or CANCELLED.
        self.layer_call_duration = Timings(LAYER_CALL_BUCKETS, weight=LAYER_CALL_SAMPLE)
        #: Every layer call that ended other than DONE or EMPTY, by :func:`call_key`.
        self.layer_call_ends = Counts()
        #: Messages sent (send and send_async) and received (each kind of receive), each one.
        self.layer_sent = Tally()
        self.layer_received = Tally()
        #: The layer calls counted (their names): each has its errors counter, from zero.
        self.layer_calls = set()
        #: What group sends reported: the members reached (SENT) and missed (CHANNEL_FULL).
        self.layer_messages = Counts(SENT, CHANNEL_FULL)
        #: Callables counting the worker threads serving now and those alive (None: no worker threads).
        self.worker_threads_busy = None
        self.worker_threads_alive = None
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Collector(self))


class _Collector(object):
    """Reads a :class:`Metrics`' tallies at each scrape."""

    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        metrics = self.metrics
        # Answered first: a request answered between the two reads is then in neither figure, never negative.
        # The WSGI front keeps statuses as text, the ASGI 3 front as numbers.
        answered = metrics.http_request_duration.counts(str)
        started = metrics.http_requests_started.value
        requests = CounterMetricFamily("asgiref_http_requests", "HTTP requests answered by this front, by status "
                                       "code", labels=["status"])
        for status, count in sorted(answered.items()):
            requests.add_metric([status], count)
        yield requests
        yield _histogram("asgiref_http_request_duration_seconds", "Seconds from a request's arrival to the end "
                         "of its response", metrics.http_request_duration, lambda status: None, None)
        yield GaugeMetricFamily("asgiref_http_requests_in_flight", "HTTP requests being answered now",
                                value=max(0, started - sum(answered.values())))
        yield GaugeMetricFamily("asgiref_websocket_connections", "WebSocket connections open now (accepted, not "
                                "yet closed)", value=metrics.websocket_connections.value)
        ends = metrics.layer_call_ends.snapshot()
        groups = metrics.layer_messages.snapshot()
        yield CounterMetricFamily("asgiref_layer_messages_sent", "Messages this process stored on the layer (a "
                                  "group send: one per member that got it)",
                                  value=metrics.layer_sent.value + groups[SENT])
        yield CounterMetricFamily("asgiref_layer_messages_received", "Messages this process received from the "
                                  "layer", value=metrics.layer_received.value)
        yield CounterMetricFamily("asgiref_layer_channel_full", "Sends the layer refused because the channel was "
                                  "at capacity (each try counts), and group members that missed a group send for "
                                  "the same reason", value=ends.get(call_key("send", FULL), 0) + groups[CHANNEL_FULL])
        errors = CounterMetricFamily("asgiref_layer_errors", "Layer calls that failed (the layer unreachable or "
                                     "broken), by call", labels=["call"])
        failed = dict((name, 0) for name in metrics.layer_calls)
        for key, count in ends.items():
            name, how = call_and_outcome(key)
            if how == FAILED:
                # A waiting receive's failure is a receive's, as its caller sees it.
                name = "receive" if name == "receive_wait" else name
                failed[name] = failed.get(name, 0) + count
        for name, count in sorted(failed.items()):
            errors.add_metric([name], count)
        yield errors
        yield _histogram("asgiref_layer_call_duration_seconds", "Seconds layer calls took, by call (receive_wait: "
                         "a receive that waits for a message), from one call in %d, counted %d times"
                         % (LAYER_CALL_SAMPLE, LAYER_CALL_SAMPLE), metrics.layer_call_duration,
                         lambda key: call_and_outcome(key)[0], "call")
        if metrics.worker_threads_alive is not None:
            busy = metrics.worker_threads_busy()
            yield GaugeMetricFamily("asgiref_worker_threads_busy", "Worker threads handling a request or message "
                                    "now", value=busy)
            yield GaugeMetricFamily("asgiref_worker_threads_idle", "Worker threads alive and waiting for a request "
                                    "or message", value=max(0, metrics.worker_threads_alive() - busy))


def _histogram(name, documentation, timings, group, label):
    """``timings`` as a histogram, its rows summed by ``group(key)``: the value of ``label`` (None: one histogram)."""
    family = HistogramMetricFamily(name, documentation, labels=[label] if label else None)
    bounds = [floatToGoString(bound) for bound in timings.bounds] + ["+Inf"]
    snapshot = timings.snapshot(group)
    if label is None and not snapshot:
        snapshot = {None: ([0] * len(bounds), 0.0)}
    for key, (cumulative, total) in sorted(snapshot.items(), key=lambda item: item[0] or ""):
        family.add_metric([key] if label else [], list(zip(bounds, cumulative)), total)
    return family
