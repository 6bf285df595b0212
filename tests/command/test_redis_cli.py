"""
The asgiref command over the Redis layer: README's split recipe (an
``asgiref interface`` process and an ``asgiref worker`` process serving a
Django site through a real redis-server), driven by a real HTTP client,
``--layer-option`` keywords with a redis:// layer, and a start-up that
reaches the layer before it says it serves.
"""
from __future__ import absolute_import, unicode_literals

import json
import os
import re
import socket
import time
from contextlib import closing

import pytest

from tests.redis_servers import RedisServer, free_port, redis_server, require_redis  # noqa: F401 (a fixture)
from tests.command.test_cli import ASGI3, command, echoed, get  # noqa: F401 (command is a fixture)


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


# Start-up: the layer answers before anything says it serves.

COMMANDS = [["serve"], ["interface"], ["worker", "cli_apps:application"]]


def unreachable(command, arguments, url):
    """Run ``arguments`` over ``url``; its one line, its exit code and how long it took."""
    started = time.time()
    running = command(*(arguments + ["--port", "0"] if arguments[0] != "worker" else arguments) + ["--layer", url])
    code = running.wait()
    return running.lines, code, time.time() - started


@pytest.mark.parametrize("arguments", COMMANDS)
def test_a_redis_nobody_listens_for_is_one_line_naming_it_and_exit_1(command, arguments):
    require_redis()
    url = "redis://127.0.0.1:%d/0" % free_port()
    lines, code, seconds = unreachable(command, arguments, url)
    assert lines == ["asgiref: error: cannot reach the Redis server at %s: Connection refused" % url]
    assert code == 1
    assert seconds < 10


@pytest.mark.parametrize("arguments", COMMANDS)
def test_a_redis_that_never_answers_is_given_up_within_10_seconds(command, arguments):
    require_redis()
    # A listener that never accepts: the system completes the handshake, but
    # nothing ever answers, as with a host whose packets go nowhere.
    with closing(socket.socket()) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = "redis://127.0.0.1:%d/0" % silent.getsockname()[1]
        lines, code, seconds = unreachable(command, arguments, url)
    assert len(lines) == 1
    assert re.match(r"asgiref: error: cannot reach the Redis server at %s: no answer within [0-9.]+ s$"
                    % re.escape(url), lines[0]), lines
    assert code == 1
    assert seconds < 10


def test_a_host_whose_connection_never_completes_is_given_up_within_10_seconds(command):
    require_redis()
    # A listener whose queue of connections is full: new ones are not
    # answered at all, so connecting itself times out.
    with closing(socket.socket()) as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        fillers = []
        for _ in range(3):
            fillers.append(socket.socket())
            fillers[-1].setblocking(False)
            fillers[-1].connect_ex(full.getsockname())
        try:
            url = "redis://127.0.0.1:%d/0" % full.getsockname()[1]
            lines, code, seconds = unreachable(command, ["worker", "cli_apps:application"], url)
        finally:
            for filler in fillers:
                filler.close()
    assert len(lines) == 1 and lines[0].startswith("asgiref: error: cannot reach the Redis server at %s: " % url)
    assert code == 1
    assert seconds < 10


def test_a_missing_unix_socket_is_one_line_naming_it_and_exit_1(command, tmp_path):
    require_redis()
    url = "unix://%s?db=0" % tmp_path.joinpath("nobody.sock")
    lines, code, _ = unreachable(command, ["worker", "cli_apps:application"], url)
    assert lines == ["asgiref: error: cannot reach the Redis server at %s: No such file or directory" % url]
    assert code == 1


def test_a_db_the_server_does_not_have_is_one_line_and_exit_1(command, redis_server):  # noqa: F811
    url = "redis://127.0.0.1:%d/99" % redis_server.port
    lines, code, _ = unreachable(command, ["worker", "cli_apps:application"], url)
    assert lines == ["asgiref: error: cannot reach the Redis server at %s: DB index is out of range" % url]
    assert code == 1


def test_a_wrong_password_is_one_line_that_does_not_show_it(command):
    server = RedisServer(extra=["--requirepass", "right"])
    try:
        url = "redis://:wrong@127.0.0.1:%d/0" % server.port
        lines, code, _ = unreachable(command, ["worker", "cli_apps:application"], url)
    finally:
        server.stop()
    assert len(lines) == 1 and "wrong" not in lines[0]
    assert lines[0].startswith("asgiref: error: cannot reach the Redis server at redis://127.0.0.1:%d/0: "
                               % server.port)
    assert code == 1


def test_a_worker_on_a_unix_socket_url_serves(command, tmp_path):
    socket_path = str(tmp_path.joinpath("redis.sock"))
    server = RedisServer(extra=["--unixsocket", socket_path])
    try:
        url = "unix://%s?db=2" % socket_path
        interface = command("interface", "--port", "0", "--layer", url)
        worker = command("worker", "cli_apps:application", "--workers", "1", "--layer", url)
        worker.wait_for_line(r"asgiref: worker serving cli_apps:application from asgiref\.redis\.RedisChannelLayer")
        assert get(interface.port(), "/over/unix")[2] == echoed("GET", "/over/unix", "")
        assert interface.stop() == 0
        assert worker.stop() == 0
    finally:
        server.stop()
