"""
The asgiref command over Redis Cluster: ``--layer redis+cluster://HOST:PORT/0``
names one seed node of a real six-node cluster, and the split recipe
(``asgiref interface`` + ``asgiref worker``) serves HTTP through it, one
client after another and several at once, and WebSocket on the ASGI 3
front, as the layer comes and with ``--layer-option
wait_for_replicas=True``, and again once a killed master is replaced; a
cluster nobody answers for, or a db a cluster does not have, is one line
and an exit code.
"""
from __future__ import absolute_import, unicode_literals

import re
import time

import pytest

from tests.command.test_cli import ASGI3, command, echoed, get  # noqa: F401 (command is a fixture)
from tests.redis_cluster import RedisCluster, require_cluster
from tests.redis_servers import free_port
from tests.threads import in_thread

try:
    from asgiref.redis.cluster.wire import slot
except ImportError:
    slot = None

WORKER_SERVING = r"asgiref: worker serving %s from asgiref\.redis\.RedisClusterChannelLayer"


@pytest.fixture(scope="module")
def cluster():
    """A cluster started for this module."""
    started = RedisCluster()
    yield started
    started.stop()


@pytest.fixture
def seed(cluster):
    """``redis+cluster://`` URL of a node of the cluster."""
    return "redis+cluster://127.0.0.1:%d/0" % cluster.nodes[0].port


@pytest.fixture(params=[False, True], ids=["as-it-comes", "waiting-for-replicas"])
def layer(request, seed):
    """The arguments that name the cluster's layer: as it comes, and with ``wait_for_replicas``."""
    return ["--layer", seed] + (["--layer-option", "wait_for_replicas=True"] if request.param else [])


def test_the_split_recipe_serves_http_over_a_cluster(command, layer):  # noqa: F811
    interface = command("interface", "--port", "0", *layer)
    worker = command("worker", "cli_apps:application", "--workers", "2", *layer)
    worker.wait_for_line(WORKER_SERVING % r"cli_apps:application")
    port = interface.port()
    for n in range(5):
        assert get(port, "/one-by-one/%d" % n)[2] == echoed("GET", "/one-by-one/%d" % n, "")
    clients = [in_thread(get, port, "/together/%d" % n) for n in range(8)]
    for n, (thread, result) in enumerate(clients):
        thread.join(30)
        assert result and result[0][2] == echoed("GET", "/together/%d" % n, "")
    assert interface.stop() == 0
    assert worker.stop() == 0


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front needs Python 3.9+ and uvicorn")
def test_the_split_recipe_serves_websocket_over_a_cluster(command, layer):  # noqa: F811
    from websockets.sync.client import connect
    interface = command("interface", "--port", "0", "--server", "uvicorn", *layer)
    worker = command("worker", "--consumers", "cli_apps:routes", "--workers", "2", *layer)
    worker.wait_for_line(WORKER_SERVING % r"consumers cli_apps:routes")
    port = interface.port()
    assert get(port, "/page")[2] == b"consumed /page"
    with connect("ws://127.0.0.1:%d/chat" % port) as websocket:
        for text in ("hello", "caf\u00e9", "third"):
            websocket.send(text)
            assert websocket.recv(30) == "echo: " + text
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_cluster_nobody_answers_for_is_one_line_naming_its_seed_and_exit_1(command):  # noqa: F811
    require_cluster()
    port = free_port()
    running = command("worker", "cli_apps:application", "--layer", "redis+cluster://127.0.0.1:%d/0" % port)
    assert running.wait() == 1
    assert len(running.lines) == 1, running.lines
    assert running.lines[0].startswith("asgiref: error: cannot reach Redis Cluster at 127.0.0.1:%d: " % port)


def test_a_db_other_than_0_is_one_line_and_exit_2(command):  # noqa: F811
    require_cluster()
    running = command("worker", "cli_apps:application", "--layer", "rediss+cluster://:pw@127.0.0.1:7000/3")
    assert running.wait() == 2
    assert len(running.lines) == 1, running.lines
    assert re.match(r"asgiref: error: cannot construct layer rediss\+cluster://:\*\*\*@127\.0\.0\.1:7000/3: "
                    r"ValueError: Redis Cluster has only db 0", running.lines[0]), running.lines


def test_the_split_recipe_serves_again_once_a_killed_master_is_replaced_without_a_restart(command, cluster, layer):  # noqa: F811,E501
    interface = command("interface", "--port", "0", *layer)
    worker = command("worker", "cli_apps:application", "--workers", "2", *layer)
    worker.wait_for_line(WORKER_SERVING % r"cli_apps:application")
    port = interface.port()
    assert get(port, "/before")[2] == echoed("GET", "/before", "")
    # The master of http.request's slot: every request crosses it.
    victim = [node for node in cluster.masters() if _serves(cluster, node, slot("http.request"))][0]
    victim.kill()
    try:
        statuses = []
        deadline = time.time() + 60
        while time.time() < deadline:
            status, _, body = get(port, "/during")
            statuses.append(status)
            if status == 200:
                assert body == echoed("GET", "/during", "")
                break
            time.sleep(0.2)
        assert statuses[-1] == 200, "no answer within 60 s of the kill: %s" % statuses
        assert set(statuses) <= {200, 503, 504}
        for n in range(5):
            assert get(port, "/after/%d" % n)[2] == echoed("GET", "/after/%d" % n, "")
    finally:
        victim.restart()
        cluster.wait_until_ok()
    assert interface.stop() == 0
    assert worker.stop() == 0


def _serves(cluster, node, number):
    line = [entry for entry in cluster.cli(node, "CLUSTER", "NODES").splitlines() if "myself" in entry][0]
    for part in line.split()[8:]:
        start, _, end = part.partition("-")
        if part[0].isdigit() and int(start) <= number <= int(end or start):
            return True
    return False
