"""
The asgiref command over the Redis layer: README's split recipe (an
``asgiref interface`` process and an ``asgiref worker`` process serving a
Django site through a real redis-server), driven by a real HTTP client, and
``--layer-option`` keywords with a redis:// layer.
"""
from __future__ import unicode_literals

import json
import os

import pytest

from redis_servers import RedisServer, redis_server  # noqa: F401 (a fixture)
from test_cli import ASGI3, command, echoed, get  # noqa: F401 (command is a fixture)


def split(command, layer_arguments, app):
    """README's two terminals: the interface, then the worker; returns the HTTP port."""
    interface = command("interface", "--port", "0", *layer_arguments)
    worker = command("worker", app, "--workers", "2", *layer_arguments)
    worker.wait_for_line(r"asgiref: worker serving %s from asgiref\.redis\.RedisChannelLayer" % app)
    return interface, worker, interface.port()


def test_readme_split_recipe_serves_a_django_site_over_redis(command, redis_server):  # noqa: F811
    url = "redis://127.0.0.1:%d/0" % redis_server.port
    interface, worker, port = split(command, ["--layer", url], "django_site.wsgi:application")
    status, headers, body = get(port, "/echo/?q=1", method="POST", body=b"over redis")
    assert status == 200
    echoed_request = json.loads(body.decode("utf-8"))
    assert echoed_request["method"] == "POST" and echoed_request["full_path"] == "/echo/?q=1"
    upload = os.urandom(300 * 1024)
    status, _, body = get(port, "/body-length/", method="POST", body=upload)
    assert status == 200 and json.loads(body.decode("utf-8"))["body_size"] == len(upload)
    assert interface.stop() == 0
    assert worker.stop() == 0


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front needs Python 3.9+ and uvicorn")
def test_a_worker_runs_consumers_that_answer_http_and_websocket_through_the_interface(command, redis_server):  # noqa: F811,E501
    from websockets.sync.client import connect
    url = "redis://127.0.0.1:%d/0" % redis_server.port
    interface = command("interface", "--port", "0", "--layer", url, "--server", "uvicorn")
    worker = command("worker", "--consumers", "cli_apps:routes", "--workers", "2", "--layer", url)
    worker.wait_for_line(r"asgiref: worker serving consumers cli_apps:routes from asgiref\.redis\.RedisChannelLayer")
    port = interface.port()
    assert get(port, "/page")[2] == b"consumed /page"
    with connect("ws://127.0.0.1:%d/chat" % port) as websocket:
        for text in ("hello", "caf\u00e9", "third"):
            websocket.send(text)
            assert websocket.recv(30) == "echo: " + text
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_layer_options_shard_over_several_servers_under_a_prefix(command, redis_server):  # noqa: F811
    other = RedisServer()
    try:
        hosts = "hosts=['redis://127.0.0.1:%d/0', 'redis://127.0.0.1:%d/0']" % (redis_server.port, other.port)
        layer = ["--layer", "redis://127.0.0.1:%d/0" % redis_server.port, "--layer-option", hosts,
                 "--layer-option", "prefix=myapp:"]
        interface, worker, port = split(command, layer, "cli_apps:application")
        for n in range(6):
            assert get(port, "/sharded/%d" % n)[2] == echoed("GET", "/sharded/%d" % n, "")
        # Requests went through both servers, under the prefix.
        import redis
        counts = [int(redis.Redis(port=server.port).get("asgi-meta:#global#:messages_count") or 0)
                  for server in (redis_server, other)]
        assert all(count > 0 for count in counts)
        assert redis.Redis(port=other.port).keys("asgi:*") == []
        assert interface.stop() == 0
        assert worker.stop() == 0
    finally:
        other.stop()


def test_a_redis_layer_with_a_bad_option_is_one_line_and_exit_code_2(command, redis_server):  # noqa: F811
    running = command("worker", "cli_apps:application", "--layer", "redis://127.0.0.1:%d/0" % redis_server.port,
                      "--layer-option", "hosts='one string'")
    assert running.wait() == 2
    # (Old cryptography releases may warn about the Python version first.)
    running.wait_for_line(r"^asgiref: error: cannot construct layer redis://.*not one string")
