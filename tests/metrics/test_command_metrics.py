"""
``--metrics`` on a running ``asgiref serve`` (both HTTP servers), scraped
as Prometheus scrapes it, after real requests: the counters, gauges and
histograms move as docs/metrics.rst says.
"""
from __future__ import absolute_import, unicode_literals

import json

import pytest

from tests.command.test_cli import ASGI3, command, get  # noqa: F401 (command is a fixture)
from tests.metrics.scraping import eventually, fetch, metrics_port, scrape, value
from tests.threads import in_thread

pytest.importorskip("prometheus_client")
from asgiref.metrics.collectors import LAYER_CALL_SAMPLE  # noqa: E402 (only with prometheus_client)


def counted(metrics, name, expected):
    """The samples once ``name`` is ``expected`` (the last ones after 15 s)."""
    found = []

    def check():
        found[:] = [scrape(metrics)]
        return value(found[0], name) == expected
    eventually(check)
    return found[0]


def test_requests_are_counted_by_status_timed_and_their_layer_messages_counted(command):
    running = command("serve", "metrics_apps:statuses", "--port", "0", "--metrics", "127.0.0.1:0")
    port, metrics = running.port(), metrics_port(running)
    before = scrape(metrics)
    for path in ("/", "/", "/", "/404", "/404"):
        get(port, path)
    # A request is counted once its response is over, a moment after the client has it.
    after = counted(metrics, "asgiref_http_request_duration_seconds_count", 5)
    assert value(after, "asgiref_http_requests_total", status="200") - value(
        before, "asgiref_http_requests_total", status="200") == 3
    assert value(after, "asgiref_http_requests_total", status="404") - value(
        before, "asgiref_http_requests_total", status="404") == 2
    assert value(after, "asgiref_http_request_duration_seconds_count") - value(
        before, "asgiref_http_request_duration_seconds_count") == 5
    assert value(after, "asgiref_http_request_duration_seconds_sum") > value(
        before, "asgiref_http_request_duration_seconds_sum")
    assert value(after, "asgiref_http_requests_in_flight") == 0
    # Each request is at least a request message and a response message, sent once and received once.
    for name in ("asgiref_layer_messages_sent_total", "asgiref_layer_messages_received_total"):
        assert value(after, name) - value(before, name) >= 10
    # Of ten sends or more, one at least was timed, counting for a sample's worth.
    timed = value(after, "asgiref_layer_call_duration_seconds_count", call="send") - value(
        before, "asgiref_layer_call_duration_seconds_count", call="send")
    assert timed >= LAYER_CALL_SAMPLE and timed % LAYER_CALL_SAMPLE == 0
    assert value(after, "asgiref_layer_errors_total", call="send") == 0
    assert value(after, "asgiref_worker_threads_busy") == 0
    assert value(after, "asgiref_worker_threads_idle") == 4
    assert running.stop() == 0


def test_a_slow_request_is_in_flight_on_a_busy_worker_thread_then_lands_in_a_slow_bucket(command):
    running = command("serve", "cli_apps:slow", "--port", "0", "--workers", "2", "--metrics", "127.0.0.1:0")
    port, metrics = running.port(), metrics_port(running)
    thread, answer = in_thread(get, port, "/")
    running.wait_for_line("slow request started")
    during = scrape(metrics)
    assert value(during, "asgiref_http_requests_in_flight") == 1
    assert value(during, "asgiref_worker_threads_busy") == 1
    assert value(during, "asgiref_worker_threads_idle") == 1
    thread.join(30)
    assert answer[0][0] == 200
    after = counted(metrics, "asgiref_http_request_duration_seconds_count", 1)
    # The app sleeps 2 s: the request is past the 1 s bucket.
    assert value(after, "asgiref_http_request_duration_seconds_bucket", le="1.0") == 0
    assert value(after, "asgiref_http_request_duration_seconds_bucket", le="+Inf") == 1
    assert value(after, "asgiref_http_requests_in_flight") == 0
    assert value(after, "asgiref_worker_threads_busy") == 0
    assert running.stop() == 0


def test_health_liveness_and_stats_of_an_in_memory_serve(command):
    running = command("serve", "--port", "0", "--metrics", "127.0.0.1:0")
    metrics = metrics_port(running)
    running.port()
    assert fetch(metrics, "/healthz") == (200, "ok: the layer has no ping; it lives in this process\n")
    assert fetch(metrics, "/livez") == (200, "ok\n")
    status, body = fetch(metrics, "/stats")
    assert status == 200 and sorted(json.loads(body)) == ["channels", "groups"]
    assert fetch(metrics, "/nosuch")[0] == 404
    assert running.stop() == 0


@pytest.mark.skipif(not ASGI3, reason="WebSockets are served by the ASGI 3 front: Python 3.9+ and uvicorn")
def test_an_open_websocket_is_counted_until_it_closes(command):
    from websockets.sync.client import connect
    running = command("serve", "--consumers", "cli_apps:routes", "--port", "0", "--server", "uvicorn",
                      "--metrics", "127.0.0.1:0")
    port, metrics = running.port(), metrics_port(running)
    with connect("ws://127.0.0.1:%d/chat" % port) as websocket:
        websocket.send("hello")
        assert websocket.recv(30) == "echo: hello"
        assert value(scrape(metrics), "asgiref_websocket_connections") == 1
    assert eventually(lambda: value(scrape(metrics), "asgiref_websocket_connections") == 0)
    assert running.stop() == 0


def test_a_metrics_port_in_use_is_one_line_and_exit_code_2(command):
    first = command("serve", "--port", "0", "--metrics", "127.0.0.1:0")
    taken = metrics_port(first)
    second = command("serve", "--port", "0", "--metrics", "127.0.0.1:%d" % taken)
    assert second.wait() == 2
    assert second.lines[-1].startswith("asgiref: error: --metrics: cannot listen on 127.0.0.1 port %d" % taken)
    assert first.stop() == 0


@pytest.mark.parametrize("text", ["9100", "localhost:", ":9100", "host:99999"])
def test_a_bad_metrics_address_is_refused(command, text):
    running = command("worker", "--metrics", text)
    assert running.wait() == 2
    assert "is not HOST:PORT" in running.lines[-1]
