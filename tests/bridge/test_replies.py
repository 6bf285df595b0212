"""
Every response message reaches only the request it was sent for, on both
fronts and both layers, with reply prefixes reused and (Redis) prefetched:
a message for a request that is over is dropped and counted, never handed
to the next request that borrows its prefix.
"""
from __future__ import absolute_import, unicode_literals

import sys

import pytest

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import WsgiToAsgiAdapter
from tests.bridge_helpers import make_environ, respond, serve_in_thread, StartResponse, take
from tests.redis_servers import redis_server  # noqa: F401
from tests.threads import in_thread

ASGI3 = sys.version_info >= (3, 9)


@pytest.fixture(params=["inmemory", "redis"])
def layers(request):
    """``(front's layer, worker's layer, receives_waiting(count))`` of the kind asked for."""
    if request.param == "inmemory":
        layer = ChannelLayer(capacity=100, receive_timeout=5)
        # A receive_async registers at once and takes what comes after; nothing to wait for.
        yield layer, layer, lambda count: True
        return
    # The server first: it skips the test without the redis extra.
    server = request.getfixturevalue("redis_server")
    import redis
    from asgiref.redis import RedisChannelLayer
    client = redis.Redis.from_url(server.url)
    yield (RedisChannelLayer(hosts=[server.url], receive_timeout=5), RedisChannelLayer(hosts=[server.url]),
           lambda count: client.info("clients")["blocked_clients"] == count)


def prefix_of(channel):
    return channel[:channel.index("!") + 1]


def run_scenario(name, front_layer, worker, receives_waiting, **keywords):
    """Run ``reply_scenarios.NAME`` on a new event loop, through the ASGI 3 front on ``front_layer``."""
    import asyncio
    from tests import reply_scenarios
    from asgiref.asgi3 import ChannelLayerApplication
    front = ChannelLayerApplication(front_layer, **keywords)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(getattr(reply_scenarios, name)(front, worker, receives_waiting))
    finally:
        if hasattr(front_layer, "send_async"):
            from asgiref.redis.async_calls import close_clients
            loop.run_until_complete(close_clients(front_layer))
        loop.close()


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front is for Python 3.9 and later")
def test_a_receive_left_waiting_by_a_client_that_left_takes_nothing_from_the_next_request(layers):
    answer_b, answer_c, prefixes, dropped = run_scenario("leave_mid_response_then_reuse", *layers)
    assert answer_b == (200, [b"b1", b"b2", b"b3"])
    assert answer_c == (201, [b"c1", b"c2"])
    # A's prefix was lent again only once nothing could take from it for A.
    assert prefixes[1] != prefixes[0] and prefixes[2] == prefixes[0]
    assert dropped == 1


def test_a_late_message_for_a_request_whose_client_left_is_dropped_by_the_next_on_its_prefix(layers):
    front_layer, worker, _ = layers
    front = WsgiToAsgiAdapter(front_layer, response_timeout=10)
    thread, started = in_thread(front, make_environ(), StartResponse())
    _, request_a = take(worker, "http.request")
    respond(worker, request_a, content=b"a1", more=True)
    thread.join(10)
    # The WSGI server closes the response unread: its client left.
    started[0].close()
    thread, result = serve_in_thread(front, make_environ())
    _, request_b = take(worker, "http.request")
    assert prefix_of(request_b["reply_channel"]) == prefix_of(request_a["reply_channel"])
    # The worker, not yet told, sends on for A; then B's answer comes.
    respond(worker, request_a, content=b"a2")
    respond(worker, request_b, status=201, content=b"b1", more=True)
    worker.send(request_b["reply_channel"], {"content": b"b2"})
    thread.join(10)
    start_response, body = result[0]
    assert (start_response.status, body) == ("201 Created", b"b1b2")
    assert front.prefixes.dropped == 1 and front.prefixes.in_use == 0


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front is for Python 3.9 and later")
def test_a_receive_left_waiting_by_a_request_whose_time_ran_out_takes_nothing_from_the_next(layers):
    status_a, answer_b, same_prefix, dropped = run_scenario("time_up_then_reuse", *layers, response_timeout=0.5)
    assert status_a == 504
    assert answer_b == (200, [b"b1", b"b2"])
    assert not same_prefix and dropped == 1
