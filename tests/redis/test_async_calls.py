"""
The Redis layer's extensions for event loops: ``receive_async`` on
redis-py's asyncio client (Python 3), ``receive_twisted`` where Twisted is
installed. The coroutines are driven from plain functions, so this module
also loads on Python 2, where it skips.
"""
from __future__ import absolute_import, unicode_literals

import threading
import time

import pytest
import six

from tests.redis_servers import RedisServer, require_redis

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
    from asgiref.redis.async_calls import close_clients
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
    from asgiref.redis.async_calls import close_clients
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
    from tests.redis_servers import free_port
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
    # The process's one reactor, run in a thread by the conformance helpers.
    in_reactor = pytest.importorskip("asgiref.conformance.twisted_helpers").in_reactor
    layer.send("twisted.channel", {"n": 1})
    assert in_reactor(layer.receive_twisted, ["twisted.channel"]) == ("twisted.channel", {"n": 1})
    threading.Timer(0.3, lambda: layer.send("twisted.later", {"n": 2})).start()
    assert in_reactor(layer.receive_twisted, ["twisted.idle", "twisted.later"]) == ("twisted.later", {"n": 2})


# send_async.

def test_async_sends_are_stored_in_the_order_they_were_made(layer):
    from tests.redis_async_scenarios import send_at_once
    sends = [("async.sent", {"n": n}) for n in range(50)] + [("async.sent.local!x", {"n": 50})]
    assert run(layer, send_at_once(layer, sends)) == [None] * 51
    assert [layer.receive(["async.sent"])[1]["n"] for _ in range(50)] == list(range(50))
    assert layer.receive(["async.sent.local!"]) == ("async.sent.local!x", {"n": 50})


def test_send_async_raises_channel_full_at_capacity_and_stores_the_rest(server):
    from tests.redis_async_scenarios import send_at_once
    layer = RedisChannelLayer(hosts=[server.url], capacity=3)
    layer.flush()
    results = run(layer, send_at_once(layer, [("async.full", {"n": n}) for n in range(5)]))
    assert results[:3] == [None] * 3
    assert all(isinstance(result, layer.ChannelFull) for result in results[3:])
    assert [layer.receive(["async.full"])[1]["n"] for _ in range(3)] == [0, 1, 2]


def test_send_async_refuses_bad_input_before_any_round_trip(layer):
    with pytest.raises(TypeError):
        run(layer, layer.send_async("bad name!", {"n": 1}))
    with pytest.raises(TypeError):
        run(layer, layer.send_async("async.ok", {"n": object()}))
    small = RedisChannelLayer(hosts=layer.hosts, max_message_size=10)
    with pytest.raises(small.MessageTooLarge):
        run(small, small.send_async("async.ok", {"n": "x" * 20}))
    assert layer.receive(["async.ok"]) == (None, None)


def test_send_async_with_redis_absent_names_the_server():
    require_redis()
    from tests.redis_servers import free_port
    port = free_port()
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % port])
    with pytest.raises(RedisUnavailable) as raised:
        run(layer, layer.send_async("async.absent", {"n": 1}))
    assert str(port) in str(raised.value)


def test_sends_that_find_the_script_gone_load_it_and_are_stored_once(server, layer):
    import redis
    from tests.redis_async_scenarios import send_at_once
    run(layer, send_at_once(layer, [("async.reloaded", {"n": 0})]))
    redis.Redis.from_url(server.url).script_flush()
    assert run(layer, send_at_once(layer, [("async.reloaded", {"n": n}) for n in range(1, 4)])) == [None] * 3
    assert [layer.receive(["async.reloaded"])[1]["n"] for _ in range(4)] == [0, 1, 2, 3]
    assert layer.receive(["async.reloaded"]) == (None, None)


def test_a_send_async_cancelled_before_its_turn_is_not_made(layer):
    from tests.redis_async_scenarios import cancel_the_second_send
    assert run(layer, cancel_the_second_send(layer, "async.cancelled")) == "cancelled"
    assert [layer.receive(["async.cancelled"])[1]["n"] for _ in range(2)] == [1, 3]
    assert layer.receive(["async.cancelled"]) == (None, None)


# receive_async on a process-specific channel.

def test_receive_async_on_a_prefix_shares_its_batch_with_the_blocking_receive(layer):
    for n in range(3):
        layer.send("async.batch!x", {"n": n})
    assert run(layer, layer.receive_async(["async.batch!"]))[1] == {"n": 0}
    assert layer.receive(["async.batch!"])[1] == {"n": 1}
    assert run(layer, layer.receive_async(["async.batch!"]))[1] == {"n": 2}


def test_a_receive_async_on_a_prefix_cancelled_mid_round_trip_loses_none_of_its_batch(layer):
    from tests.redis_async_scenarios import cancel_mid_round_trip
    layer.send("async.warm!x", {"n": "warm"})
    for n in range(4):
        layer.send("async.cut!x", {"n": n})
    assert run(layer, cancel_mid_round_trip(layer, "async.warm!", "async.cut!", 4)) == [0, 1, 2, 3]


def test_a_receive_async_on_a_prefix_cancelled_while_it_waits_loses_nothing_sent_after(layer):
    from tests.redis_async_scenarios import cancel_while_waiting
    layer.send("async.warm!x", {"n": "warm"})
    assert run(layer, cancel_while_waiting(layer, "async.warm!", "async.waiting!")) == [1, 2]


def test_more_receives_than_idle_kept_wait_at_once_and_only_idle_kept_connections_stay(server, layer):
    import redis
    from asgiref.redis.async_calls import IDLE_KEPT
    from tests.redis_async_scenarios import receive_all_at_once
    count = IDLE_KEPT + 20
    counter = redis.Redis.from_url(server.url)
    before = len(counter.client_list())
    channels = ["async.burst%d" % n for n in range(count)]

    def send_to_each():
        for number, channel in enumerate(channels):
            layer.send(channel, {"n": number})
    received = run(layer, receive_all_at_once(layer, channels, send_to_each))
    assert [message["n"] for _, message in received] == list(range(count))
    # The kept ones, and the connection of the blocking sends.
    assert len(counter.client_list()) - before <= IDLE_KEPT + 1
