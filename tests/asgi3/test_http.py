"""
The ASGI 3 front's HTTP over a real Redis server, served by uvicorn to real
clients: no blocking layer call runs on the event loop, whatever the
request does.
"""
from __future__ import absolute_import

import hashlib
import os
import socket
import sys
import time

import pytest

if sys.version_info < (3, 9):
    pytest.skip("the ASGI 3 front is for Python 3.9 and later", allow_module_level=True)
pytest.importorskip("uvicorn")

import asyncio  # noqa: E402

import requests  # noqa: E402

from asgiref.asgi3 import ChannelLayerApplication  # noqa: E402
from asgiref.wsgi import AsgiToWsgiAdapter  # noqa: E402
from tests.asgi3_servers import Uvicorn  # noqa: E402
from tests.redis_servers import redis_server  # noqa: E402,F401

WAIT = 10
CAPACITY = {"http.request.body?*": 2, "http.response.*": 2}


def application(environ, start_response):
    """/echo: the body's length and digest; /unread: answers without reading; /chunks/N: N chunks, slowly."""
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"%d %s" % (len(body), hashlib.sha256(body).hexdigest().encode())]
    if path == "/unread":
        start_response("200 OK", [])
        return [b"not read"]
    count = int(path.split("/")[-1])
    start_response("200 OK", [])
    return (time.sleep(0.01) or b"chunk %d;" % n for n in range(count))


@pytest.fixture
def served(redis_server):
    """``(front's layer, uvicorn)``: the front on a layer that records its blocking calls, a worker behind it."""
    from asgiref.redis import RedisChannelLayer

    class RecordingLayer(RedisChannelLayer):
        """The Redis layer, recording which thread each of its blocking calls ran on."""

        def __init__(self, **keywords):
            super().__init__(**keywords)
            self.on_the_loop = []
            self.off_the_loop = []

        def send(self, channel, message):
            self._record("send", channel)
            return super().send(channel, message)

        def receive(self, channels, block=False):
            self._record("receive", list(channels))
            return super().receive(channels, block)

        def _record(self, call, what):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self.off_the_loop.append((call, what))
            else:
                self.on_the_loop.append((call, what))

    layer = RecordingLayer(hosts=[redis_server.url], channel_capacity=CAPACITY)
    worker = AsgiToWsgiAdapter(application, RedisChannelLayer(hosts=[redis_server.url], channel_capacity=CAPACITY))
    worker.start(threads=4)
    server = Uvicorn(ChannelLayerApplication(layer, body_chunk_size=1000, send_timeout=WAIT))
    yield layer, server
    server.close()
    worker.stop()


def leave_after_the_first_chunk(server, path):
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    connection.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
    first = connection.recv(65536)
    connection.close()
    return first


def test_no_blocking_layer_call_runs_on_the_event_loop(served):
    layer, server = served
    body = os.urandom(50000)
    answer = requests.post(server.url + "/echo", data=body, timeout=WAIT)
    assert answer.content == b"50000 " + hashlib.sha256(body).hexdigest().encode()
    answer = requests.post(server.url + "/unread", data=os.urandom(200000), timeout=WAIT)
    assert answer.content == b"not read"
    answer = requests.get(server.url + "/chunks/5", timeout=WAIT)
    assert answer.content == b"chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;"
    assert b"chunk 0;" in leave_after_the_first_chunk(server, "/chunks/500")
    prefixes = server.server.config.app.prefixes
    deadline = time.time() + WAIT
    while prefixes.in_use and time.time() < deadline:
        time.sleep(0.01)
    assert prefixes.in_use == 0
    assert layer.on_the_loop == []
    # Every send went through send_async. The receives it has only in
    # blocking form were made off the loop: the look at the reply channel
    # while the unread body's channel was full, and the drop of what was
    # left on the body channel and for the client that left.
    assert [call for call, _ in layer.off_the_loop if call == "send"] == []
    received = [channels[0] for _, channels in layer.off_the_loop]
    assert any(channel.startswith("http.response.") and channel.endswith("!") for channel in received)
    assert any(channel.startswith("http.request.body?") for channel in received)
