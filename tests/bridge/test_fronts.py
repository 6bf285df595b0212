# -*- coding: utf-8 -*-
"""
The bridge's HTTP promises on both fronts, over real sockets: waitress with
WsgiToAsgiAdapter (every Python) and uvicorn with the ASGI 3
ChannelLayerApplication (Python 3.9+). Each test runs once per front, with
a real HTTP client, and the application side read and written by hand on
the in-memory layer.
"""
from __future__ import absolute_import, unicode_literals

import os
import socket
import sys
import threading
import time

import pytest
import requests
from six.moves import http_client

from asgiref.command.waitress_server import HttpServer
from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter
from tests.bridge_helpers import respond, take

try:
    ASGI3 = sys.version_info >= (3, 9) and bool(__import__("uvicorn"))
except ImportError:
    ASGI3 = False

WAIT = 10


class Waitress(object):
    """waitress serving WsgiToAsgiAdapter on a free port."""

    def __init__(self, layer, **keywords):
        self.server = HttpServer(WsgiToAsgiAdapter(layer, **keywords), port=0)
        self.port = self.server.port
        self.thread = threading.Thread(target=self.server.serve, args=(WAIT,))
        self.thread.daemon = True
        self.thread.start()

    def close(self):
        self.server.stop()
        self.thread.join(WAIT)


def uvicorn_front(layer, **keywords):
    from asgiref.asgi3 import ChannelLayerApplication
    from tests.asgi3_servers import Uvicorn
    return Uvicorn(ChannelLayerApplication(layer, **keywords))


FRONTS = {"waitress": Waitress, "uvicorn": uvicorn_front}


@pytest.fixture(params=["waitress", "uvicorn"] if ASGI3 else ["waitress"])
def serve(request):
    """``serve(layer, **keywords)``: the front's server on a free port, closed after the test."""
    started = []

    def start(layer, **keywords):
        server = FRONTS[request.param](layer, **keywords)
        started.append(server)
        return server
    yield start
    for server in started:
        server.close()


@pytest.fixture
def layer():
    return ChannelLayer(receive_timeout=0.2, capacity=100,
                        channel_capacity={"http.request.body?*": 4, "http.response*": 4})


def url(server, path="/"):
    return "http://127.0.0.1:%d%s" % (server.port, path)


def in_thread(function, *args, **kwargs):
    result = []
    thread = threading.Thread(target=lambda: result.append(function(*args, **kwargs)))
    thread.daemon = True
    thread.start()
    return thread, result


def get(server, path="/", **kwargs):
    kwargs.setdefault("timeout", WAIT * 3)
    return requests.get(url(server, path), **kwargs)


# The request.

def test_a_request_becomes_an_http_request_message(layer, serve):
    server = serve(layer)
    thread, result = in_thread(requests.post, url(server, "/caf%C3%A9?a=%20b"), data=b"name=value",
                               headers={"X-Thing": "yes"}, timeout=WAIT)
    _, request = take(layer, "http.request")
    assert request["method"] == "POST" and request["path"] == "/caf\u00e9"
    assert request["query_string"] == b"a=%20b" and request["body"] == b"name=value"
    assert [b"x-thing", b"yes"] in request["headers"] and [b"content-length", b"10"] in request["headers"]
    assert request["client"][0] == "127.0.0.1" and request["server"][1] == server.port
    assert request["http_version"] == "1.1" and request.get("scheme", "http") == "http"
    respond(layer, request, status=201, headers=[(b"x-answer", b"42")], content=b"made")
    thread.join(WAIT)
    assert (result[0].status_code, result[0].headers["x-answer"], result[0].content) == (201, "42", b"made")


def test_a_large_body_crosses_the_layer_in_chunks_as_the_application_reads_them(layer, serve):
    server = serve(layer, body_chunk_size=1000)
    body = os.urandom(50000)
    thread, result = in_thread(requests.put, url(server), data=body, timeout=WAIT)
    _, request = take(layer, "http.request")
    received = [request["body"]]
    time.sleep(0.3)
    # The body channel holds 4 chunks: the rest waits for the application.
    assert layer.channel_statistics(request["body_channel"])["messages_pending"] <= 4
    while True:
        _, chunk = take(layer, request["body_channel"])
        received.append(chunk["content"])
        if not chunk.get("more_content"):
            break
    assert b"".join(received) == body and max(len(piece) for piece in received) <= 1000
    respond(layer, request, content=b"ok")
    thread.join(WAIT)
    assert result[0].content == b"ok"


def test_a_body_over_the_maximum_gets_413_and_nothing_is_sent(layer, serve):
    server = serve(layer, max_body_size=100)
    response = requests.post(url(server), data=b"x" * 101, timeout=WAIT)
    assert response.status_code == 413
    assert layer.receive(["http.request"]) == (None, None)


def test_a_bad_content_length_gets_400(layer, serve):
    server = serve(layer)
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert connection.recv(100).startswith(b"HTTP/1.1 400")
    connection.close()


# Answers the bridge makes itself.

def test_channel_full_on_http_request_gets_503(serve):
    layer = ChannelLayer(receive_timeout=0.2, capacity=100, channel_capacity={"http.request": 1})
    layer.send("http.request", {"reply_channel": "nobody!", "path": "/", "method": "GET"})
    server = serve(layer)
    assert get(server).status_code == 503


def test_no_response_in_time_gets_504_and_the_application_is_told(layer, serve):
    server = serve(layer, response_timeout=0.5)
    response = get(server, "/slow")
    assert response.status_code == 504
    _, request = take(layer, "http.request")
    _, disconnect = take(layer, "http.disconnect")
    assert disconnect == {"reply_channel": request["reply_channel"], "path": "/slow"}


@pytest.mark.parametrize("message", [{"status": "200"}, {"status": 200, "headers": [["x", 1]]}])
def test_a_malformed_response_gets_502(layer, serve, message):
    server = serve(layer)
    thread, result = in_thread(get, server)
    _, request = take(layer, "http.request")
    layer.send(request["reply_channel"], message)
    thread.join(WAIT)
    assert result[0].status_code == 502


# The response.

def test_a_server_push_is_dropped_and_chunks_arrive_as_they_are_sent(layer, serve):
    server = serve(layer)
    response = []
    thread, result = in_thread(get, server, stream=True)
    _, request = take(layer, "http.request")
    layer.send(request["reply_channel"], {"request": {"path": "/pushed"}})
    respond(layer, request, headers=[(b"content-type", b"text/plain")], content=b"first ", more=True)
    thread.join(WAIT)
    response = result[0]
    pieces = response.iter_content(chunk_size=None)
    assert next(pieces) == b"first "
    layer.send(request["reply_channel"], {"content": b"second", "more_content": False})
    assert b"".join(pieces) == b"second"
    assert response.headers["content-type"] == "text/plain"


@pytest.mark.parametrize("cut", ["closed", "timeout"])
def test_a_response_cut_off_mid_stream_is_an_error_for_the_client(layer, serve, cut):
    server = serve(layer, response_timeout=1)
    thread, result = in_thread(get, server, stream=True)
    _, request = take(layer, "http.request")
    respond(layer, request, content=b"partial", more=True)
    thread.join(WAIT)
    if cut == "closed":
        layer.send(request["reply_channel"], {"closed": True})
    with pytest.raises(requests.exceptions.RequestException):
        result[0].content


def test_a_client_that_leaves_while_waiting_is_announced_with_http_disconnect(layer, serve):
    server = serve(layer)
    connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    connection.request("GET", "/left")
    _, request = take(layer, "http.request")
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    deadline = time.time() + WAIT
    while time.time() < deadline:
        if isinstance(server, Waitress):
            # waitress sees the client leave only when it writes to it.
            layer.send(request["reply_channel"], {"status": 200, "content": b"too late", "more_content": True})
        channel, disconnect = layer.receive(["http.disconnect"], block=True)
        if channel is not None:
            break
    assert disconnect["reply_channel"] == request["reply_channel"]


# Backpressure and clean-up.

def not_reading(environ, start_response):
    start_response(str("200 OK"), [])
    return [b"not read"]


def test_an_unread_body_is_answered_at_once_and_dropped_from_the_layer(layer, serve):
    worker = AsgiToWsgiAdapter(not_reading, layer)
    worker.start(threads=2)
    server = serve(layer, body_chunk_size=1000, send_timeout=3600)
    try:
        for n in range(3):
            response = requests.post(url(server), data=os.urandom(200000), timeout=WAIT)
            assert (response.status_code, response.content) == (200, b"not read")
    finally:
        worker.stop()
    time.sleep(0.3)
    assert layer.global_statistics()["messages_pending"] == 0


def post_then_read_to_the_end(port, body):
    """
    POST ``body`` on a connection of its own that the client will close
    after this request, pausing mid-body as a slow uploader; the status
    code and content of the answer, or the error that cut it off.
    """
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=WAIT * 3)
        try:
            head = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
            connection.sendall(head + body[:1024 * 1024])
            time.sleep(0.05)
            connection.sendall(body[1024 * 1024:])
            answer = b""
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        finally:
            connection.close()
    except socket.error as error:
        return repr(error)
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), content


def test_300_clients_posting_5_mb_to_a_view_that_never_reads_all_get_its_answer(layer, serve):
    # With Connection: close the server closes the connection once the
    # answer is sent: a body still arriving then would reset it, and the
    # client would lose the answer. So the front reads the rest first.
    from multiprocessing.pool import ThreadPool

    def never_reads(environ, start_response):
        start_response(str("200 OK"), [(str("Content-Length"), str("8"))])
        return [b"not read"]
    worker = AsgiToWsgiAdapter(never_reads, layer)
    worker.start(threads=4)
    server = serve(layer)
    body = os.urandom(5 * 1024 * 1024)
    pool = ThreadPool(16)
    try:
        answers = pool.map(lambda n: post_then_read_to_the_end(server.port, body), range(300))
    finally:
        pool.close()
        worker.stop()
    assert answers == [(200, b"not read")] * 300


def test_the_fronts_own_answer_also_waits_for_the_rest_of_the_body(serve):
    layer = ChannelLayer(receive_timeout=0.2, capacity=100, channel_capacity={"http.request": 1})
    layer.send("http.request", {"reply_channel": "nobody!", "path": "/", "method": "GET"})
    server = serve(layer)
    answer = post_then_read_to_the_end(server.port, os.urandom(5 * 1024 * 1024))
    assert answer[0] == 503 and b"too busy" in answer[1], answer


def test_a_slow_client_holds_back_its_own_application_and_no_other(layer, serve):
    produced = []

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        if environ["PATH_INFO"] != "/download":
            return [b"quick"]
        return (produced.append(n) or b"x" * 500000 for n in range(200))

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=2)
    server = serve(layer)
    try:
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
        # A tiny receive buffer, and nothing read: the download's client is stuck.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.sendall(b"GET /download HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        for n in range(10):
            assert get(server, "/%d" % n).content == b"quick"
        # What the download got ahead is its reply channel (4 chunks) and
        # what the sockets and the server hold (waitress: 16 MB): far from
        # its 200 chunks.
        assert len(produced) < 100
        connection.close()
    finally:
        worker.stop()


@pytest.mark.parametrize("keywords", [
    {"response_timeout": 0}, {"max_body_size": 0}, {"body_chunk_size": 0}, {"send_timeout": float("inf")},
    {"channel": "bad name"}])
def test_both_fronts_check_their_keywords_the_same_way(layer, keywords):
    fronts = [WsgiToAsgiAdapter]
    if ASGI3:
        from asgiref.asgi3 import ChannelLayerApplication
        fronts.append(ChannelLayerApplication)
    for front in fronts:
        with pytest.raises((TypeError, ValueError)):
            front(layer, **keywords)
