"""
instrument_workers: the threads serving now and those alive, for the
HTTP worker (which counts its busy threads itself, so nothing wraps it)
and for consumers (whose ``handle`` is wrapped to count them).
"""
from __future__ import absolute_import, unicode_literals

import threading

import pytest

from asgiref.consumers import Consumers
from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter
from tests.metrics.scraping import eventually

pytest.importorskip("prometheus_client")
from asgiref.metrics import Metrics, instrument_workers  # noqa: E402 (only with prometheus_client)


def test_the_http_worker_is_read_not_wrapped_and_counts_a_request_while_it_runs():
    release = threading.Event()

    def application(environ, start_response):
        release.wait(10)
        start_response(str("200 OK"), [])
        return [b"done"]
    layer = ChannelLayer(receive_timeout=0.1)
    worker = AsgiToWsgiAdapter(application, layer)
    handle = worker.handle
    metrics = Metrics()
    instrument_workers([worker], metrics)
    assert worker.handle == handle
    worker.start(threads=2)
    try:
        assert eventually(lambda: metrics.worker_threads_alive() == 2)
        assert metrics.worker_threads_busy() == 0
        layer.send("http.request", {"reply_channel": "http.response!a", "http_version": "1.1", "method": "GET",
                                    "path": "/", "query_string": b"", "headers": []})
        assert eventually(lambda: metrics.worker_threads_busy() == 1)
        release.set()
        assert layer.receive(["http.response!"], block=True)[1]["status"] == 200
        assert eventually(lambda: metrics.worker_threads_busy() == 0)
    finally:
        release.set()
        worker.stop()


def test_consumers_are_counted_busy_while_a_consumer_runs():
    release = threading.Event()
    layer = ChannelLayer(receive_timeout=0.1)
    consumers = Consumers({"work": lambda message, channel_layer: release.wait(10)}, layer)
    metrics = Metrics()
    instrument_workers([consumers], metrics)
    consumers.start(threads=2)
    try:
        assert eventually(lambda: metrics.worker_threads_alive() == 2)
        layer.send("work", {"n": 1})
        assert eventually(lambda: metrics.worker_threads_busy() == 1)
        release.set()
        assert eventually(lambda: metrics.worker_threads_busy() == 0)
    finally:
        release.set()
        consumers.stop(5)
