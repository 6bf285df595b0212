"""
The HTTP metrics of the WSGI front (waitress): WSGI middleware around
``WsgiToAsgiAdapter``. Every string here is a WSGI native string, so there
are no unicode_literals.
"""
from __future__ import absolute_import

from ..bridge.layer_calls import clock


class WsgiFrontMetrics(object):
    """
    WSGI middleware counting each request in ``metrics``: in flight from
    its call until the server closes its response, then counted by status
    (``500`` when the application raised before starting one) and timed.
    """

    def __init__(self, application, metrics):
        self.application = application
        self._started = metrics.http_requests_started.add
        #: Count a request that is over: its status (text) and its duration in seconds.
        self.answered = metrics.http_request_duration.observe

    def __call__(self, environ, start_response):
        request = _Request(self, start_response)
        self._started()
        try:
            result = self.application(environ, request.start_response)
        except BaseException:
            request.finish()
            raise
        return _counted(result, request)


class _Request(object):
    """One request's status and start time, until its response is closed."""

    __slots__ = ("front", "status", "started", "_start_response", "_finished")

    def __init__(self, front, start_response):
        self.front = front
        self.status = "500"
        self.started = clock()
        self._start_response = start_response
        self._finished = False

    def start_response(self, status, headers, exc_info=None):
        self.status = status[:3]
        return self._start_response(status, headers, exc_info)

    def finish(self):
        if not self._finished:
            self._finished = True
            self.front.answered(self.status, clock() - self.started)


class _Counted(object):
    """The application's iterable; closing it counts the request."""

    def __init__(self, result, request):
        self._result = result
        self._request = request

    def __iter__(self):
        return iter(self._result)

    def close(self):
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._request.finish()


# A list stays a list to the server (which then sets Content-Length), as
# the access log keeps it (waitress_server._LoggedList).
class _CountedList(list):
    __slots__ = ("_request",)

    def __init__(self, items, request):
        list.__init__(self, items)
        self._request = request

    def close(self):
        self._request.finish()


def _counted(result, request):
    if type(result) is list or type(result) is tuple:
        return _CountedList(result, request)
    return _Counted(result, request)
