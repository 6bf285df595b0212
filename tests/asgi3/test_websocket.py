"""
The ASGI 3 front's WebSockets (spec section 5b), with real clients: uvicorn
runs ChannelLayerApplication on a free port, the ``websockets`` library
connects, and ASGI 1 consumers answer from the in-memory layer.
"""
from __future__ import absolute_import

import socket
import sys
import threading
import time

import pytest

if sys.version_info < (3, 9):
    pytest.skip("the ASGI 3 front is for Python 3.9 and later", allow_module_level=True)
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

import asyncio  # noqa: E402

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from asgiref.asgi3 import ChannelLayerApplication  # noqa: E402
from asgiref.consumers import Consumers  # noqa: E402
from asgiref.inmemory import ChannelLayer  # noqa: E402
from asgiref.bridge.layer_calls import send_patiently  # noqa: E402
from tests.asgi3_servers import open_all_then_send, Uvicorn  # noqa: E402

WAIT = 10


class Application(object):
    """
    Channels-1-style consumers that record every message they get, in order;
    ``on_connect`` answers websocket.connect (None: no answer) and
    ``on_receive(message)`` answers each frame (default: echo it).
    """

    def __init__(self, layer, on_connect=None, on_receive=None):
        self.layer = layer
        self.on_connect = {"accept": True} if on_connect is None else on_connect
        self.on_receive = on_receive or (lambda message: {"text": message["text"], "bytes": message["bytes"]})
        self.messages = []
        self.changed = threading.Condition()
        self.consumers = Consumers({
            "websocket.connect": self.connect, "websocket.receive": self.receive,
            "websocket.disconnect": self.record}, layer)
        self.consumers.start(2)

    def record(self, message, layer, channel="websocket.disconnect"):
        with self.changed:
            self.messages.append((channel, message))
            self.changed.notify_all()

    def connect(self, message, layer):
        self.record(message, layer, "websocket.connect")
        if self.on_connect is not False:
            layer.send(message["reply_channel"], self.on_connect)

    def receive(self, message, layer):
        self.record(message, layer, "websocket.receive")
        answer = self.on_receive(message)
        if answer is not None:
            layer.send(message["reply_channel"], answer)

    def wait_for(self, channel, count=1):
        """The messages of ``channel`` once there are ``count``; fails after a while."""
        deadline = time.time() + WAIT
        with self.changed:
            while True:
                found = [message for name, message in self.messages if name == channel]
                if len(found) >= count:
                    return found
                assert time.time() < deadline, "%d of %d %s messages arrived" % (len(found), count, channel)
                self.changed.wait(0.1)

    def channels(self):
        with self.changed:
            return [name for name, _ in self.messages]

    def stop(self):
        self.consumers.stop(WAIT)


@pytest.fixture
def layer():
    return ChannelLayer(receive_timeout=0.2, capacity=100)


@pytest.fixture
def server(layer):
    server = Uvicorn(ChannelLayerApplication(layer, connect_timeout=1, send_timeout=0.3))
    yield server
    server.close()


@pytest.fixture
def applications(layer):
    """``applications(**options)``: an Application on the layer, stopped after the test."""
    made = []

    def make(**options):
        made.append(Application(layer, **options))
        return made[-1]
    yield make
    for application in made:
        application.stop()


@pytest.fixture
def application(applications):
    return applications()


# The handshake.

def test_the_connect_message_has_every_key_and_accept_opens_the_socket(server, application):
    with connect(server.ws_url + "/chat/caf%C3%A9?room=1", additional_headers={"X-Thing": "yes"}) as socket:
        socket.send("hello")
        assert socket.recv(WAIT) == "hello"
    connect_message, = application.wait_for("websocket.connect")
    headers = connect_message.pop("headers")
    assert [b"x-thing", b"yes"] in headers and [b"host", b"127.0.0.1:%d" % server.port] in headers
    reply_channel = connect_message.pop("reply_channel")
    assert reply_channel.startswith("websocket.send.") and "!" in reply_channel
    assert connect_message.pop("client")[0] == "127.0.0.1"
    assert connect_message == {
        "scheme": "ws", "path": "/chat/caf\u00e9", "query_string": b"room=1", "root_path": "",
        "server": ["127.0.0.1", server.port], "order": 0}


@pytest.mark.parametrize("answer", [{"accept": False}, {"close": True}, {"accept": False, "text": "no"}])
def test_a_refusal_is_http_403_and_the_application_hears_one_disconnect(layer, server, applications, answer):
    application = applications(on_connect=answer)
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url + "/")
    assert refused.value.response.status_code == 403
    disconnect, = application.wait_for("websocket.disconnect")
    assert disconnect["code"] == 1006 and disconnect["order"] == 1
    time.sleep(0.3)
    assert application.channels() == ["websocket.connect", "websocket.disconnect"]


def test_no_answer_within_connect_timeout_is_a_refusal(layer, server, applications):
    application = applications(on_connect=False)
    started = time.time()
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url + "/")
    assert refused.value.response.status_code == 403
    assert time.time() - started >= 1
    application.wait_for("websocket.disconnect")


def test_data_as_the_first_answer_accepts_and_is_sent(layer, server, applications):
    applications(on_connect={"text": "welcome"})
    with connect(server.ws_url + "/") as socket:
        assert socket.recv(WAIT) == "welcome"


def test_data_with_close_as_the_first_answer_is_sent_then_closes(layer, server, applications):
    application = applications(on_connect={"bytes": b"bye", "close": 4000})
    with connect(server.ws_url + "/") as socket:
        assert socket.recv(WAIT) == b"bye"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(WAIT)
    assert closed.value.rcvd.code == 4000
    assert application.wait_for("websocket.disconnect")[0]["code"] == 4000


def test_no_frame_reaches_the_application_before_it_answers(layer, server, applications):
    application = applications(on_connect=False)
    opened = threading.Event()

    def open_and_send():
        try:
            with connect(server.ws_url + "/") as socket:
                opened.set()
                socket.send("early")
        except InvalidStatus:
            pass
    thread = threading.Thread(target=open_and_send)
    thread.start()
    connect_message, = application.wait_for("websocket.connect")
    time.sleep(0.3)
    assert not opened.is_set() and application.channels() == ["websocket.connect"]
    layer.send(connect_message["reply_channel"], {"accept": True})
    receive, = application.wait_for("websocket.receive")
    assert receive["text"] == "early" and receive["order"] == 1
    thread.join(WAIT)


# Frames.

def test_text_and_bytes_go_both_ways_numbered_by_order(server, application):
    with connect(server.ws_url + "/echo") as socket:
        socket.send("caf\u00e9")
        assert socket.recv(WAIT) == "caf\u00e9"
        socket.send(b"\x00\xff")
        assert socket.recv(WAIT) == b"\x00\xff"
        socket.send("third")
        assert socket.recv(WAIT) == "third"
    frames = application.wait_for("websocket.receive", 3)
    assert [(frame["order"], frame["text"], frame["bytes"]) for frame in frames] == [
        (1, "caf\u00e9", None), (2, None, b"\x00\xff"), (3, "third", None)]
    assert all(frame["path"] == "/echo" for frame in frames)
    disconnect, = application.wait_for("websocket.disconnect")
    assert disconnect["order"] == 4 and disconnect["path"] == "/echo"
    assert disconnect["reply_channel"] == frames[0]["reply_channel"]


def test_a_reply_with_both_text_and_bytes_is_ignored(layer, server, applications):
    answers = iter([{"text": "a", "bytes": b"b"}, {"text": "second"}])
    applications(on_receive=lambda message: next(answers))
    with connect(server.ws_url + "/") as socket:
        socket.send("one")
        socket.send("two")
        assert socket.recv(WAIT) == "second"


# Closing.

@pytest.mark.parametrize("close, code", [(True, 1000), (4001, 4001)])
def test_the_application_closes_with_its_code_and_the_disconnect_follows_the_last_frame(
        layer, server, applications, close, code):
    application = applications(on_receive=lambda message: {"text": "last", "close": close})
    with connect(server.ws_url + "/") as socket:
        socket.send("please close")
        assert socket.recv(WAIT) == "last"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(WAIT)
    assert closed.value.rcvd.code == code
    disconnect, = application.wait_for("websocket.disconnect")
    assert disconnect["code"] == code and disconnect["order"] == 2
    time.sleep(0.3)
    assert application.channels() == ["websocket.connect", "websocket.receive", "websocket.disconnect"]


def test_the_client_close_code_reaches_the_application_once(server, application):
    with connect(server.ws_url + "/") as socket:
        socket.send("x")
        socket.recv(WAIT)
        socket.close(code=4005)
    disconnect, = application.wait_for("websocket.disconnect")
    assert disconnect["code"] == 4005 and disconnect["order"] == 2
    time.sleep(0.3)
    assert application.channels().count("websocket.disconnect") == 1


def test_a_lost_connection_is_a_disconnect_too(server, application):
    with connect(server.ws_url + "/") as socket:
        socket.send("x")
        socket.recv(WAIT)
        socket.socket.close()
    disconnect, = application.wait_for("websocket.disconnect")
    # Whichever code the server gives a socket lost without a close frame.
    assert disconnect["code"] in (1005, 1006) and disconnect["order"] == 2


# A full layer.

def test_channel_full_on_connect_is_http_503():
    layer = ChannelLayer(receive_timeout=0.2, capacity=100, channel_capacity={"websocket.connect": 1})
    layer.send("websocket.connect", {"reply_channel": "nobody!", "path": "/"})
    server = Uvicorn(ChannelLayerApplication(layer))
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url + "/")
        assert refused.value.response.status_code == 503
        assert layer.receive(["websocket.connect"])[1]["reply_channel"] == "nobody!"
        assert layer.receive(["websocket.disconnect"]) == (None, None)
    finally:
        server.close()


def test_channel_full_on_a_frame_closes_with_1013_and_says_so():
    layer = ChannelLayer(receive_timeout=0.2, capacity=100, channel_capacity={"websocket.receive": 1})
    server = Uvicorn(ChannelLayerApplication(layer, send_timeout=0.3))
    application = Application(layer)
    # Frames are no longer taken: the first fills the channel, the second cannot go.
    del application.consumers.routes["websocket.receive"]
    application.consumers.stop(WAIT)
    application.consumers.start(1)
    try:
        with connect(server.ws_url + "/") as socket:
            socket.send("fills the channel")
            socket.send("finds it full")
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(WAIT)
        assert closed.value.rcvd.code == 1013
        disconnect, = application.wait_for("websocket.disconnect")
        assert disconnect["code"] == 1013 and disconnect["order"] == 3
    finally:
        application.stop()
        server.close()


# Many sockets.

def test_a_thousand_concurrent_sockets_lose_nothing():
    # Room for every handshake at once: ChannelFull would refuse some (503).
    layer = ChannelLayer(receive_timeout=0.2, capacity=1000)
    server = Uvicorn(ChannelLayerApplication(layer, connect_timeout=60), ws_max_queue=1)
    application = Application(layer)

    try:
        echoes = asyncio.run(open_all_then_send(server.ws_url, 1000))
        assert echoes == ["message %d" % number for number in range(1000)]
        disconnects = application.wait_for("websocket.disconnect", 1000)
        assert sorted(message["path"] for message in disconnects) == sorted("/%d" % n for n in range(1000))
        assert len(set(message["reply_channel"] for message in disconnects)) == 1000
    finally:
        application.stop()
        server.close()


def test_consumers_run_on_the_servers_loop_from_startup_to_shutdown(layer):
    seen = []

    def echo(message, channel_layer):
        seen.append(threading.current_thread().name)
        channel_layer.send(message["reply_channel"], {"text": message["text"].upper()})
    consumers = Consumers({"websocket.connect": lambda message, channel_layer: channel_layer.send(
        message["reply_channel"], {"accept": True}), "websocket.receive": echo}, layer)
    server = Uvicorn(ChannelLayerApplication(layer, consumers=consumers), lifespan="on")
    try:
        with connect(server.ws_url + "/") as socket:
            socket.send("shout")
            assert socket.recv(WAIT) == "SHOUT"
        assert seen == [server.thread.name]
    finally:
        server.close()
    assert layer.send("websocket.receive", {"text": "after shutdown"}) is None
    time.sleep(0.3)
    assert layer.receive(["websocket.receive"])[1] == {"text": "after shutdown"}


def test_a_layer_without_receive_async_is_refused():
    class Synchronous(ChannelLayer):
        extensions = ["groups", "flush", "statistics"]
    with pytest.raises(TypeError, match="receive_async"):
        ChannelLayerApplication(Synchronous())


def test_over_the_redis_layer_two_hundred_sockets_lose_nothing():
    from tests.redis_servers import RedisServer
    # RedisServer skips the test without the redis extra, so redis-py is imported after it.
    redis = RedisServer()
    from asgiref.redis import RedisChannelLayer
    layer = RedisChannelLayer(hosts=[redis.url], receive_timeout=0.5, capacity=1000)
    server = Uvicorn(ChannelLayerApplication(layer, connect_timeout=60))
    # The consumers have a layer of their own, as another process would.
    application = Application(RedisChannelLayer(hosts=[redis.url], receive_timeout=0.5, capacity=1000))
    try:
        echoes = asyncio.run(open_all_then_send(server.ws_url, 200))
        assert echoes == ["message %d" % number for number in range(200)]
        disconnects = application.wait_for("websocket.disconnect", 200)
        assert sorted(message["path"] for message in disconnects) == sorted("/%d" % n for n in range(200))
    finally:
        application.stop()
        server.close()
        redis.stop()


def test_a_client_slower_than_its_application_is_closed_with_1013_and_no_other_is(layer, server, applications):
    application = applications(on_receive=lambda message: None)
    with connect(server.ws_url + "/slow", max_size=None) as slow, connect(server.ws_url + "/quick") as quick:
        slow.send("hello")
        quick.send("hello")
        channels = dict((message["path"], message["reply_channel"])
                        for message in application.wait_for("websocket.receive", 2))
        slow_channel, quick_channel = channels["/slow"], channels["/quick"]
        # The slow client reads nothing while its application sends 20 MB.
        slow.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        for n in range(200):
            try:
                layer.send(slow_channel, {"bytes": b"x" * 100000})
            except layer.ChannelFull:
                time.sleep(0.01)
        # The two sockets' reply channels share this process's prefix, and so
        # its capacity: the quick one's message may wait its turn, as an
        # application's sender waits out ChannelFull (spec section 5b).
        send_patiently(layer, quick_channel, {"text": "still here"}, WAIT)
        assert quick.recv(WAIT) == "still here"
    disconnect = [message for message in application.wait_for("websocket.disconnect", 2)
                  if message["path"] == "/slow"]
    assert disconnect[0]["code"] == 1013
