"""
The HTTP and WebSocket metrics of the ASGI 3 front (uvicorn), counted by
``ChannelLayerApplication`` itself through its ``counters``, and the
liveness of the event loop it runs on, for ``/livez``. Python 3.9+ only.
"""
import threading


class FrontCounters(object):
    """
    What ``ChannelLayerApplication.counters`` calls, bound straight to the
    tallies of ``metrics`` (no call of its own in between): each HTTP
    request in flight while it is relayed, then timed by status; each
    accepted WebSocket while it is open.
    """

    def __init__(self, metrics):
        self.request_started = metrics.http_requests_started.add
        self.request_answered = metrics.http_request_duration.observe
        self.websockets = metrics.websocket_connections.add


def count_front(front, metrics):
    """Count the requests and WebSockets of ``front`` (a ``ChannelLayerApplication``) in ``metrics``; returns it."""
    front.counters = FrontCounters(metrics)
    return front


def loop_answers(front, timeout):
    """
    A liveness check of the event loop ``front`` runs on: None if the loop
    runs a callback within ``timeout`` seconds (or has not started yet),
    else what is wrong. Called from another thread.
    """
    loop = front.loop
    if loop is None or loop.is_closed():
        return None
    ran = threading.Event()
    try:
        loop.call_soon_threadsafe(ran.set)
    except RuntimeError:
        # Closed meanwhile: the server is stopping.
        return None
    if not ran.wait(timeout):
        return "the event loop did not run a callback within %gs" % timeout
    return None
