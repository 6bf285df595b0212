"""
``--metrics`` on the split deployment over a real redis-server: the
interface counts the requests and what it sends, the worker what it
receives; ``/healthz`` turns 503, naming the server, while Redis is killed
and 200 once it is back, and ``/livez`` stays 200 through the outage.
"""
from __future__ import absolute_import, unicode_literals

import pytest

from tests.command.test_cli import command, get  # noqa: F401 (command is a fixture)
from tests.metrics.scraping import eventually, fetch, metrics_port, scrape, value
from tests.redis_servers import redis_server  # noqa: F401 (a fixture)

pytest.importorskip("prometheus_client")
from asgiref.metrics.collectors import LAYER_CALL_SAMPLE  # noqa: E402 (only with prometheus_client)


def split(command, url):
    interface = command("interface", "--port", "0", "--layer", url, "--metrics", "127.0.0.1:0")
    worker = command("worker", "metrics_apps:statuses", "--workers", "3", "--layer", url,
                     "--metrics", "127.0.0.1:0")
    worker.wait_for_line(r"asgiref: worker serving metrics_apps:statuses")
    return interface, worker, interface.port(), metrics_port(interface), metrics_port(worker)


def test_each_process_counts_its_own_side_of_the_requests(command, redis_server):  # noqa: F811
    interface, worker, port, interface_metrics, worker_metrics = split(command, redis_server.url)
    for path in ("/", "/201", "/"):
        assert get(port, path)[0] in (200, 201)
    front = eventually(lambda: (lambda samples: value(samples, "asgiref_http_request_duration_seconds_count") == 3
                                and samples)(scrape(interface_metrics)))
    assert value(front, "asgiref_http_requests_total", status="200") == 2
    assert value(front, "asgiref_http_requests_total", status="201") == 1
    # The interface sends the requests and receives the responses; the worker the other way round.
    assert value(front, "asgiref_layer_messages_sent_total") >= 3
    assert value(front, "asgiref_layer_messages_received_total") >= 3
    back = scrape(worker_metrics)
    assert value(back, "asgiref_layer_messages_received_total") >= 3
    assert value(back, "asgiref_layer_messages_sent_total") >= 3
    # The first waiting receive at least was timed.
    assert value(back, "asgiref_layer_call_duration_seconds_count", call="receive_wait") >= LAYER_CALL_SAMPLE
    assert value(back, "asgiref_http_request_duration_seconds_count") == 0
    assert value(back, "asgiref_worker_threads_busy") + value(back, "asgiref_worker_threads_idle") == 3
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_healthz_is_503_naming_redis_while_it_is_killed_and_200_once_it_is_back(command, redis_server):  # noqa: F811
    interface, worker, port, interface_metrics, worker_metrics = split(command, redis_server.url)
    for metrics in (interface_metrics, worker_metrics):
        assert fetch(metrics, "/healthz") == (200, "ok: the channel layer answers\n")
    redis_server.kill()
    for metrics in (interface_metrics, worker_metrics):
        status, body = fetch(metrics, "/healthz")
        assert status == 503
        assert body.startswith("the channel layer does not answer: RedisUnavailable: ")
        assert "127.0.0.1:%d" % redis_server.port in body
        # The process itself is fine: an orchestrator must not restart it for Redis's outage.
        assert fetch(metrics, "/livez") == (200, "ok\n")
    # The worker's receives fail meanwhile, and are counted as errors.
    assert eventually(lambda: value(scrape(worker_metrics), "asgiref_layer_errors_total", call="receive") > 0)
    redis_server.start()
    for metrics in (interface_metrics, worker_metrics):
        assert eventually(lambda: fetch(metrics, "/healthz")[0] == 200)
    assert eventually(lambda: get(port, "/")[0] == 200)
    assert interface.stop() == 0
    assert worker.stop() == 0
