"""
The ASGI 3 front's WebSockets when the layer fails: a real redis-server
SIGKILLed and restarted under uvicorn and real clients. A handshake is
refused with 503 and Retry-After, an open socket is closed with 1011, and
within 2 s of Redis's return new sockets open and echo, with the one
receive of the sockets' replies and the consumers on the loop still running.
"""
from __future__ import absolute_import

import contextlib
import sys
import time

import pytest

if sys.version_info < (3, 9):
    pytest.skip("the ASGI 3 front is for Python 3.9 and later", allow_module_level=True)
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from asgiref.asgi3 import ChannelLayerApplication  # noqa: E402
from asgiref.consumers import Consumers  # noqa: E402
from asgiref.bridge.http_checks import RETRY_AFTER  # noqa: E402
from tests.asgi3_servers import Uvicorn  # noqa: E402
from tests.redis_servers import redis_server  # noqa: E402,F401 (a fixture)
from tests.asgi3.test_websocket import Application  # noqa: E402
from tests.bridge.test_outages import BACK_WITHIN, SLACK, layer_of, logged, outage, server  # noqa: E402,F401

WAIT = 10


def echoes_within(url, seconds):
    """Open a socket at ``url`` and have a frame echoed, trying until ``seconds`` have passed; how long it took."""
    started = time.time()
    while True:
        try:
            with connect(url, open_timeout=WAIT) as socket:
                socket.send("back")
                assert socket.recv(WAIT) == "back"
                return time.time() - started
        except (InvalidStatus, ConnectionClosed, OSError):
            assert time.time() - started < seconds, "no socket echoed within %ss" % seconds
            time.sleep(0.05)


@pytest.fixture
def front(server):
    """uvicorn with the ASGI 3 front over Redis, and consumers that accept and echo in another layer instance."""
    http = Uvicorn(ChannelLayerApplication(layer_of(server), connect_timeout=5))
    application = Application(layer_of(server))
    yield http
    application.stop()
    http.close()


def test_while_redis_is_down_a_handshake_is_refused_with_503_and_retry_after(server, front, logged):
    server.kill()
    with pytest.raises(InvalidStatus) as refused:
        connect(front.ws_url + "/chat", open_timeout=WAIT)
    response = refused.value.response
    assert response.status_code == 503 and response.headers["Retry-After"] == str(RETRY_AFTER)
    began, = logged()
    assert began.getMessage().startswith("asgiref interface: the channel layer fails: RedisUnavailable")


def test_an_open_socket_that_loses_redis_is_closed_with_1011_and_new_ones_work_within_2_s_of_its_return(
        server, front, logged):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(front.ws_url + "/chat/%d" % number, open_timeout=WAIT))
                   for number in range(3)]
        for socket in sockets:
            socket.send("before")
            assert socket.recv(WAIT) == "before"
        outage(server)
        for socket in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(WAIT)
            assert closed.value.rcvd.code == 1011
    assert echoes_within(front.ws_url + "/chat", BACK_WITHIN + SLACK) < BACK_WITHIN + SLACK
    # The front and the consumers: each says the outage began, and perhaps already that it ended.
    lines = [(record.getMessage().split(":")[0], record.levelname) for record in logged()]
    for who in ("asgiref interface", "asgiref consumers"):
        assert [level for name, level in lines if name == who] in (["ERROR"], ["ERROR", "WARNING"])
    assert len(lines) <= 4 and not any(record.exc_info for record in logged())


def test_consumers_on_the_loop_live_through_an_outage(server, logged):
    layer = layer_of(server)
    consumers = Consumers({
        "websocket.connect": lambda message, channel_layer: channel_layer.send(
            message["reply_channel"], {"accept": True}),
        "websocket.receive": lambda message, channel_layer: channel_layer.send(
            message["reply_channel"], {"text": message["text"]})}, layer)
    http = Uvicorn(ChannelLayerApplication(layer, consumers=consumers), lifespan="on")
    try:
        assert echoes_within(http.ws_url + "/", WAIT) < WAIT
        outage(server)
        assert echoes_within(http.ws_url + "/", BACK_WITHIN + SLACK) < BACK_WITHIN + SLACK
        assert any(record.getMessage().startswith("asgiref consumers: the channel layer fails")
                   for record in logged())
    finally:
        http.close()


def test_a_frame_the_layer_fails_to_take_closes_its_socket_with_1011():
    from tests.redis_servers import RedisServer
    # Two servers: frames (websocket.receive) go to one, the sockets' replies come from the other.
    # (RedisServer skips the test without the redis extra, so redis-py is imported after it.)
    servers = [RedisServer(), RedisServer()]
    from asgiref.redis import RedisChannelLayer
    hosts = [server.url for server in servers]
    layer = RedisChannelLayer(hosts=hosts, receive_timeout=0.5)
    frames = layer.consistent_hash("websocket.receive")
    front = ChannelLayerApplication(layer)
    while layer.consistent_hash(front.mailboxes.prefix) == frames:
        front = ChannelLayerApplication(layer)
    http = Uvicorn(front)
    application = Application(RedisChannelLayer(hosts=hosts, receive_timeout=0.5))
    try:
        with connect(http.ws_url + "/chat", open_timeout=WAIT) as socket:
            socket.send("before")
            assert socket.recv(WAIT) == "before"
            servers[frames].kill()
            socket.send("lost")
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(WAIT)
        assert closed.value.rcvd.code == 1011
    finally:
        application.stop()
        http.close()
        for each in servers:
            each.stop()
