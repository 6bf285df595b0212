"""
The ASGI 3 front's counters: each HTTP request in flight while relayed,
then counted once under the status it was answered with (500 if none
began); driven by calling ``ChannelLayerApplication`` as a server would,
with a WSGI worker behind it on the in-memory layer. (WebSockets are
counted in test_command_metrics, through uvicorn.)
"""
from __future__ import absolute_import

import sys
import time

import pytest

if sys.version_info < (3, 9):
    pytest.skip("the ASGI 3 front is for Python 3.9 and later", allow_module_level=True)
pytest.importorskip("prometheus_client")

from asgiref.asgi3 import ChannelLayerApplication  # noqa: E402
from asgiref.inmemory import ChannelLayer  # noqa: E402
from asgiref.metrics import Metrics  # noqa: E402
from asgiref.metrics.asgi3_front import count_front  # noqa: E402
from asgiref.wsgi import AsgiToWsgiAdapter  # noqa: E402
from tests.metrics.asgi3_calls import request  # noqa: E402


def application(environ, start_response):
    """/slow: answers after half a second; anything else: 200 at once."""
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)
    start_response("200 OK", [])
    return [b"ok"]


@pytest.fixture
def metrics():
    return Metrics()


@pytest.fixture
def front(metrics):
    """A front counted in ``metrics``, on the in-memory layer, a worker behind it."""
    # A short receive timeout: an idle worker thread stops within it.
    layer = ChannelLayer(receive_timeout=0.1)
    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=1)
    try:
        yield count_front(ChannelLayerApplication(layer, response_timeout=5), metrics)
    finally:
        worker.stop()


def in_flight(metrics):
    return metrics.http_requests_started.value - sum(metrics.http_request_duration.counts().values())


def test_an_answered_request_is_counted_under_its_status_and_timed(front, metrics):
    assert request(front)[0]["status"] == 200
    rows = metrics.http_request_duration.snapshot()
    assert list(rows) == [200]
    cumulative, seconds = rows[200]
    assert cumulative[-1] == 1 and seconds > 0
    assert in_flight(metrics) == 0


def test_a_refused_request_is_counted_under_the_status_the_front_answered(front, metrics):
    front.max_body_size = 10
    assert request(front, headers=[(b"content-length", b"100")])[0]["status"] == 413
    assert metrics.http_request_duration.counts() == {413: 1}


def test_a_request_whose_client_left_before_any_response_is_counted_as_500(front, metrics):
    assert request(front, "/slow", leave_after=0.1) == []
    assert metrics.http_request_duration.counts() == {500: 1}


def test_a_request_is_in_flight_while_it_is_relayed_and_not_after(front, metrics):
    seen = []

    assert request(front, "/slow", look=(0.25, lambda: seen.append(in_flight(metrics))))[0]["status"] == 200
    assert seen == [1]
    assert in_flight(metrics) == 0
