"""
``asgiref stats``: what waits in a Redis layer, read from a real
redis-server, and in the in-memory layer of a running ``asgiref serve``,
read through its ``--metrics`` port; busiest first.
"""
from __future__ import absolute_import, unicode_literals

import re
import signal

import pytest

from tests.command.test_cli import Command, command, get  # noqa: F401 (command is a fixture)
from tests.metrics.scraping import eventually, metrics_port
from tests.redis_servers import free_port, redis_server  # noqa: F401 (a fixture)
from tests.threads import in_thread


def tables(running):
    """What ``asgiref stats`` printed, as a list of tables, each {"channels": {...}, "groups": {...}}."""
    output = running.process.stdout.read().decode("utf-8")
    found = []
    for block in output.split("\n\n"):
        if not block.strip():
            continue
        table = {"channels": [], "groups": []}
        section = None
        for line in block.splitlines()[1:]:
            if line.startswith("CHANNEL"):
                section = "channels"
            elif line.startswith("GROUP"):
                section = "groups"
            elif section and re.match(r"\S+( +\d+)+$", line):
                name, numbers = line.split()[0], [int(number) for number in line.split()[1:]]
                table[section].append([name] + numbers)
        found.append(table)
    return found


def stats(*arguments):
    running = Command("stats", *arguments)
    return running, running.wait(30)


def test_a_redis_layer_is_read_from_the_server_busiest_first(redis_server):  # noqa: F811
    from asgiref.redis import RedisChannelLayer
    layer = RedisChannelLayer(hosts=[redis_server.url])
    for count, channel in ((1, "quiet"), (3, "busy"), (2, "http.response.abc!1")):
        for number in range(count):
            layer.send(channel, {"n": number})
    for group, members in (("hall", ["a", "b"]), ("room", ["a", "b", "c"])):
        for member in members:
            layer.group_add(group, member)
    # Another prefix's keys are another layer's.
    RedisChannelLayer(hosts=[redis_server.url], prefix="other:").send("elsewhere", {"n": 1})
    running, code = stats("--layer", redis_server.url, "--layer-option", "channel_capacity={'quiet': 7}")
    assert code == 0, running.lines
    [table] = tables(running)
    # Capacities as the processes using the layer are given them: here channel_capacity replaces the
    # command's default, so every other channel has the layer's capacity (100).
    assert table["channels"] == [["busy", 3, 100], ["http.response.abc!", 2, 100], ["quiet", 1, 7]]
    assert table["groups"] == [["room", 3], ["hall", 2]]


def test_an_empty_redis_layer_says_so(redis_server):  # noqa: F811
    running, code = stats("--layer", redis_server.url)
    assert code == 0
    output = running.process.stdout.read().decode("utf-8")
    assert "no messages waiting\nno groups\n" in output


def test_watch_prints_again_until_interrupted(redis_server):  # noqa: F811
    from asgiref.redis import RedisChannelLayer
    RedisChannelLayer(hosts=[redis_server.url]).send("waiting", {"n": 1})
    running = Command("stats", "--layer", redis_server.url, "--watch", "0.2")
    lines = []
    reader = in_thread(lambda: [lines.append(line) for line in iter(running.process.stdout.readline, b"")])
    assert eventually(lambda: sum(1 for line in lines if line.startswith(b"waiting")) >= 2)
    running.process.send_signal(signal.SIGINT)
    assert running.wait(30) == 0
    reader[0].join(10)


def test_an_unreachable_redis_is_one_line_and_exit_1():
    running, code = stats("--layer", "redis://127.0.0.1:%d/0" % free_port())
    assert code == 1
    assert running.lines[-1].startswith("asgiref: error: ")


def test_the_in_memory_layer_of_a_serve_process_is_read_through_its_metrics_port(command):
    pytest.importorskip("prometheus_client")
    serving = command("serve", "cli_apps:slow", "--port", "0", "--workers", "1", "--metrics", "127.0.0.1:0")
    port, metrics = serving.port(), metrics_port(serving)
    clients = [in_thread(get, port, "/") for _ in range(3)]
    serving.wait_for_line("slow request started")

    def two_waiting():
        running, code = stats("--layer", "http://127.0.0.1:%d" % metrics)
        assert code == 0, running.lines
        found = tables(running)[0]["channels"]
        return found if found and found[0][:2] == ["http.request", 2] else None
    # One request is being served; the other two wait on http.request, whose capacity serve sets to 100.
    assert eventually(two_waiting) == [["http.request", 2, 100]]
    for thread, _ in clients:
        thread.join(30)
    assert serving.stop() == 0


def test_a_port_that_is_not_a_metrics_port_is_one_line_and_exit_1():
    running, code = stats("--layer", "http://127.0.0.1:%d" % free_port())
    assert code == 1
    assert running.lines[-1].startswith("asgiref: error: cannot read http://127.0.0.1:")


def test_a_layer_it_cannot_read_is_refused_with_exit_2():
    running, code = stats("--layer", "asgiref.inmemory:ChannelLayer")
    assert code == 2
    assert "asgiref stats reads a Redis layer (redis://...) or a serve process's --metrics port" in running.lines[-1]
