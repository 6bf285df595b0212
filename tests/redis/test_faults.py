"""
The Redis layer when Redis fails: absent at start, killed and restarted
under traffic, stopped without closing its sockets, or dropping our
connections. Callers get RedisUnavailable naming the server, never a hang
past the receive timeout; nothing is delivered twice.
"""
from __future__ import absolute_import, unicode_literals

import os
import signal
import threading
import time

import pytest

from tests.redis_servers import free_port, redis_server, require_redis  # noqa: F401 (a fixture)

try:
    import redis
    from asgiref.redis import RedisChannelLayer, RedisUnavailable
except ImportError:
    redis = RedisChannelLayer = RedisUnavailable = None

# Generous: the bound says "no hang", not how fast.
SLACK = 5


@pytest.fixture
def server(redis_server):  # noqa: F811
    return redis_server


def test_redis_absent_at_start_is_an_error_naming_the_server():
    require_redis()
    port = free_port()
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % port], receive_timeout=1)
    for call in (lambda: layer.send("absent", {}), lambda: layer.receive(["absent"]),
                 lambda: layer.group_add("group", "absent"), layer.global_statistics):
        with pytest.raises(RedisUnavailable) as raised:
            call()
        assert "redis://127.0.0.1:%d/0" % port in str(raised.value)
    assert issubclass(RedisUnavailable, redis.ConnectionError)


def test_a_blocked_receive_with_redis_absent_raises_after_its_timeout_not_later():
    require_redis()
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % free_port()], receive_timeout=1)
    started = time.time()
    with pytest.raises(RedisUnavailable):
        layer.receive(["absent"], block=True)
    assert 1 <= time.time() - started < 1 + SLACK


def test_a_server_that_stops_answering_is_an_error_not_a_hang(server):
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=1)
    layer.send("frozen", {"n": 1})
    assert layer.receive(["frozen"]) == ("frozen", {"n": 1})
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        started = time.time()
        with pytest.raises(RedisUnavailable) as raised:
            layer.receive(["frozen"], block=True)
        assert time.time() - started < 1 + SLACK
        assert server.url in str(raised.value)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def test_messages_in_redis_survive_a_dropped_client_connection(server):
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=1)
    layer.send("kept", {"n": 1})
    layer.receive(["nothing"])
    redis.Redis.from_url(server.url).client_kill_filter(_type="normal", skipme=True)
    assert layer.receive(["kept"]) == ("kept", {"n": 1})
    layer.send("kept", {"n": 2})
    assert layer.receive(["kept"]) == ("kept", {"n": 2})


def test_a_restart_loses_the_messages_in_redis_and_the_layer_carries_on(server):
    # As documented: the tests' servers, like the README's, keep nothing on
    # disk, so a restart empties them.
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=1)
    layer.send("volatile", {"n": 1})
    server.restart()
    assert layer.receive(["volatile"]) == (None, None)
    layer.send("volatile", {"n": 2})
    assert layer.receive(["volatile"]) == ("volatile", {"n": 2})


def test_a_blocked_receive_rides_through_a_restart(server):
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=5)
    result = []
    thread = threading.Thread(target=lambda: result.append(layer.receive(["after.restart"], block=True)))
    thread.start()
    time.sleep(0.3)
    server.restart()
    RedisChannelLayer(hosts=[server.url]).send("after.restart", {"n": 1})
    thread.join(10)
    assert result == [("after.restart", {"n": 1})]


def test_redis_killed_and_restarted_under_traffic(server):
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=1, capacity=10000)
    stop = threading.Event()
    sent, unsure, send_errors, received, receive_errors = [], [], [], [], []

    def produce():
        n = 0
        while not stop.is_set():
            try:
                layer.send("traffic", {"n": n})
                sent.append(n)
            except RedisUnavailable as error:
                # The connection may have failed after Redis stored it.
                unsure.append(n)
                send_errors.append(str(error))
                time.sleep(0.01)
            n += 1

    def consume():
        while not stop.is_set():
            try:
                channel, message = layer.receive(["traffic"], block=True)
            except RedisUnavailable as error:
                receive_errors.append(str(error))
                continue
            if channel is not None:
                received.append(message["n"])

    threads = [threading.Thread(target=produce), threading.Thread(target=consume),
               threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        server.kill()
        time.sleep(0.5)
        before_restart = len(sent)
        server.start()
        deadline = time.time() + 10
        while len(sent) < before_restart + 200 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert len(sent) >= before_restart + 200, "sending did not resume after the restart"
    assert send_errors, "sending while Redis was down raised nothing"
    assert all(server.url in error for error in send_errors + receive_errors)
    # At most once: nothing twice, nothing that was not sent (a send that
    # raised may have been stored); messages sent after the restart arrive.
    assert len(received) == len(set(received))
    assert set(received) <= set(sent) | set(unsure)
    assert max(received) > sent[before_restart]


def test_scripts_that_redis_forgot_are_loaded_again(server):
    layer = RedisChannelLayer(hosts=[server.url], receive_timeout=2)
    layer.send("scripted", {"n": 1})
    assert layer.receive(["scripted"], block=True) == ("scripted", {"n": 1})
    raw = redis.Redis.from_url(server.url)

    def forget_then_send():
        raw.script_flush()
        layer.send("scripted", {"n": 2})
    for channels in (["scripted"], ["scripted", "other"]):
        raw.script_flush()
        threading.Timer(0.3, forget_then_send).start()
        assert layer.receive(channels, block=True) == ("scripted", {"n": 2})
    raw.script_flush()
    layer.group_add("group", "scripted")
    layer.send_group("group", {"n": 3})
    assert layer.receive(["scripted"]) == ("scripted", {"n": 3})
