"""
The Redis layer's extensions for event loops: ``receive_async`` on
redis-py's asyncio client (Python 3), ``receive_twisted`` where Twisted is
installed. The coroutines are driven from plain functions, so this module
also loads on Python 2, where it skips.
"""
from __future__ import unicode_literals

import threading
import time

import pytest
import six

from redis_servers import RedisServer, require_redis

try:
    from asgiref.redis import RedisChannelLayer, RedisUnavailable
except ImportError:
    RedisChannelLayer = None

pytestmark = pytest.mark.skipif(six.PY2, reason="receive_async needs Python 3's asyncio")


@pytest.fixture(scope="module")
def server():
    require_redis()
    started = RedisServer()
    yield started
    started.stop()


@pytest.fixture
def layer(server):
    made = RedisChannelLayer(hosts=[server.url], receive_timeout=1)
    made.flush()
    return made


def run(layer, coroutine):
    """Run ``coroutine`` in a new event loop; then close the layer's connections there, and the loop."""
    import asyncio
    from asgiref.redis_async import close_clients
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(close_clients(layer))
        loop.close()


def test_async_is_listed_with_receive_async(layer):
    assert "async" in layer.extensions and callable(layer.receive_async)


def test_receive_async_returns_a_waiting_message(layer):
    layer.send("async.waiting", {"n": 1})
    layer.send("async.local!x", {"n": 2})
    assert run(layer, layer.receive_async(["async.waiting"])) == ("async.waiting", {"n": 1})
    assert run(layer, layer.receive_async(["async.other", "async.local!"])) == ("async.local!x", {"n": 2})


def test_receive_async_wakes_on_a_send_from_another_thread(layer):
    threading.Timer(0.3, lambda: layer.send("async.later", {"n": 3})).start()
    assert run(layer, layer.receive_async(["async.idle", "async.later"])) == ("async.later", {"n": 3})


def test_receive_async_comes_back_empty_after_the_receive_timeout(layer):
    started = time.time()
    assert run(layer, layer.receive_async(["async.nothing"])) == (None, None)
    assert time.time() - started >= 0.9


def test_receive_async_lets_the_event_loop_run_while_it_waits(layer):
    import asyncio
    from asgiref.redis_async import close_clients
    loop = asyncio.new_event_loop()
    ticks = []
    for n in range(5):
        loop.call_later(0.1 * (n + 1), ticks.append, n)
    try:
        received = loop.run_until_complete(layer.receive_async(["async.idle"]))
    finally:
        loop.run_until_complete(close_clients(layer))
        loop.close()
    assert received == (None, None)
    assert ticks == [0, 1, 2, 3, 4]


def test_receive_async_with_redis_absent_names_the_server():
    require_redis()
    from redis_servers import free_port
    port = free_port()
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % port], receive_timeout=0.5)
    with pytest.raises(RedisUnavailable) as raised:
        run(layer, layer.receive_async(["async.absent"]))
    assert str(port) in str(raised.value)


def test_receive_async_over_two_servers(server):
    other = RedisServer()
    try:
        layer = RedisChannelLayer(hosts=[server.url, other.url], receive_timeout=1)
        for n in range(4):
            layer.send("async.spread", {"n": n})
        received = [run(layer, layer.receive_async(["async.spread"]))[1]["n"] for _ in range(4)]
        assert sorted(received) == [0, 1, 2, 3]
    finally:
        other.stop()


def test_receive_twisted_fires_with_a_message_under_a_running_reactor(layer):
    pytest.importorskip("twisted")
    from twisted.internet import defer, reactor
    layer.send("twisted.channel", {"n": 1})
    results = []

    def receive():
        deferred = layer.receive_twisted(["twisted.channel"])
        assert isinstance(deferred, defer.Deferred)
        deferred.addBoth(results.append)
        deferred.addBoth(lambda _: reactor.stop())
    reactor.callWhenRunning(receive)
    reactor.callLater(10, lambda: reactor.running and reactor.stop())
    reactor.run(installSignalHandlers=False)
    assert results == [("twisted.channel", {"n": 1})]
