# -*- coding: utf-8 -*-
"""The WSGI bridge: both adapters together, and the names asgiref 1.1 code imports."""
from __future__ import absolute_import, unicode_literals

import hashlib
import os
import time

import pytest
import six

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter, ResponseAborted, WsgiToAsgiAdapter
from tests.bridge_helpers import make_environ, serve, serve_in_thread, StartResponse, Ticks


@pytest.fixture
def layer():
    # asgiref 1.1's default capacity, 10, is fewer than some tests have in flight.
    return ChannelLayer(capacity=100, receive_timeout=0.2)


# Both adapters together.

def echo(environ, start_response):
    """Answers with the environ it saw and a digest of the body."""
    body = environ["wsgi.input"].read()
    keys = sorted(key for key in environ if key.isupper() or key == "wsgi.url_scheme")
    # Native strings throughout: bytes on Python 2, latin-1 text on Python 3.
    text = str("\n").join(str("%s=%s") % (key, environ[key]) for key in keys)
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [text if six.PY2 else text.encode("latin-1"), b"\nbody=" + hashlib.sha256(body).hexdigest().encode("ascii"),
            b"\nlength=" + str(len(body)).encode("ascii")]


ROUND_TRIPS = [
    {},
    {"PATH_INFO": "/\xe6\x97\xa5\xe6\x9c\xac/caf\xc3\xa9", "SCRIPT_NAME": "/m\xc3\xbcnchen"},
    {"PATH_INFO": "/a%2Fb/c"},
    {"QUERY_STRING": "a=%20b&a=c&d=%C3%A9&e", "REQUEST_METHOD": "DELETE"},
    {"HTTP_ACCEPT": "text/html,*/*", "HTTP_COOKIE": "a=1; b=2", "HTTP_X_EMPTY": ""},
    {"REMOTE_ADDR": "::1", "REMOTE_PORT": "40000", "SERVER_PROTOCOL": "HTTP/1.0", "wsgi.url_scheme": "https"},
    {"body": b""},
    {"body": b"small body", "CONTENT_TYPE": "text/plain", "REQUEST_METHOD": "POST"},
    {"body": os.urandom(300 * 1024), "CONTENT_TYPE": "application/octet-stream", "REQUEST_METHOD": "PUT"},
]


@pytest.mark.parametrize("extra", ROUND_TRIPS)
def test_environ_round_trip_through_both_adapters(layer, extra):
    extra = dict(extra)
    body = extra.pop("body", b"")
    environ = make_environ(body=body, **extra)
    worker = AsgiToWsgiAdapter(echo, layer)
    worker.start(threads=2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    try:
        start_response, output = serve(front, environ)
    finally:
        worker.stop()
    assert start_response.status == "200 OK"
    seen = dict(line.split(b"=", 1) for line in output.split(b"\n"))
    for key, value in environ.items():
        if key.isupper() or key == "wsgi.url_scheme":
            assert seen[key.encode("latin-1") if six.PY3 else key] == (value.encode("latin-1") if six.PY3 else value)
    assert seen[b"body"] == hashlib.sha256(body).hexdigest().encode("ascii")
    assert seen[b"length"] == str(len(body)).encode("ascii")


def test_the_names_that_asgiref_1_1_code_imports_are_here():
    from asgiref import wsgi
    assert issubclass(wsgi.RequestAborted, IOError)
    assert sorted(wsgi.__all__) == ["AsgiToWsgiAdapter", "RequestAborted", "ResponseAborted", "WsgiToAsgiAdapter"]


def hello(environ, start_response):
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [environ["PATH_INFO"].encode("ascii")]


def test_a_hundred_waves_of_32_concurrent_requests_are_all_answered(layer):
    worker = AsgiToWsgiAdapter(hello, layer)
    worker.start(threads=4)
    front = WsgiToAsgiAdapter(layer, response_timeout=5)
    answers = []
    try:
        for wave in range(100):
            waiting = [serve_in_thread(front, make_environ(PATH_INFO="/%d" % n)) for n in range(32)]
            for n, (thread, result) in enumerate(waiting):
                thread.join(30)
                answers.append((result[0][0].status, result[0][1]) if result else None)
    finally:
        worker.stop()
    wrong = [answer for answer in answers if answer is None or answer[0] != "200 OK"]
    assert len(answers) == 3200 and wrong == []
    assert answers[:32] == [("200 OK", ("/%d" % n).encode("ascii")) for n in range(32)]


# Backpressure, flow control and honest failures (docs/backpressure.rst).

def bounded_layer():
    """A layer whose body and reply channels hold 4 messages each, as the tests below rely on."""
    return ChannelLayer(capacity=100, receive_timeout=0.2,
                        channel_capacity={"http.request.body?*": 4, "http.response*": 4})


def not_reading(environ, start_response):
    start_response(str("200 OK"), [])
    return [b"not read"]


def test_an_unread_body_is_dropped_from_the_layer_when_the_response_ends():
    layer = bounded_layer()
    worker = AsgiToWsgiAdapter(not_reading, layer)
    worker.start(threads=2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10, body_chunk_size=1000, send_timeout=5)
    try:
        for n in range(5):
            start_response, body = serve(front, make_environ(body=os.urandom(20000), REQUEST_METHOD="POST"))
            assert (start_response.status, body) == ("200 OK", b"not read")
    finally:
        worker.stop()
    assert layer.global_statistics()["messages_pending"] == 0


def test_a_large_unread_body_does_not_hold_the_request_once_the_response_arrives():
    layer = bounded_layer()
    worker = AsgiToWsgiAdapter(not_reading, layer)
    worker.start(threads=1)
    # Far more body than the body channel holds, and a send timeout far
    # beyond the response timeout: only the response can end the wait.
    front = WsgiToAsgiAdapter(layer, response_timeout=5, body_chunk_size=1000, send_timeout=3600)
    thread, result = serve_in_thread(front, make_environ(body=os.urandom(200000), REQUEST_METHOD="POST"))
    thread.join(30)
    worker.stop()
    assert result and (result[0][0].status, result[0][1]) == ("200 OK", b"not read")


def test_a_slow_client_holds_back_its_own_application_and_no_other():
    layer = bounded_layer()
    produced = []

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        if environ["PATH_INFO"] != "/download":
            return [b"quick"]
        return (produced.append(n) or b"x" * 1000 for n in range(200))

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    try:
        download = front(make_environ(PATH_INFO="/download"), StartResponse())
        chunks = iter(download)
        assert next(chunks) == b"x" * 1000
        # While the download's client reads nothing more, others are served.
        for n in range(20):
            assert serve(front, make_environ(PATH_INFO="/%d" % n))[1] == b"quick"
        time.sleep(0.5)
        # The reply channel's capacity (4) and the chunks in hand are all the download got ahead.
        assert len(produced) <= 1 + 4 + 2
        assert len(b"".join(chunks)) == 199 * 1000
        download.close()
    finally:
        worker.stop()


def test_a_response_cut_off_mid_stream_raises_instead_of_ending():
    layer = bounded_layer()

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        yield b"first"
        raise RuntimeError("failed mid-stream")

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=1)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    try:
        result = front(make_environ(), StartResponse())
        chunks = iter(result)
        assert next(chunks) == b"first"
        with pytest.raises(ResponseAborted):
            next(chunks)
        result.close()
    finally:
        worker.stop()


def test_a_disconnect_is_seen_while_every_worker_is_busy():
    layer = bounded_layer()
    ticks = Ticks()

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return ticks if environ["PATH_INFO"] == "/ticks" else [b"next"]

    # One worker thread, busy with the stream: nobody else receives http.disconnect.
    worker = AsgiToWsgiAdapter(application, layer, send_timeout=3600)
    worker.start(threads=1)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    try:
        result = front(make_environ(PATH_INFO="/ticks"), StartResponse())
        assert next(iter(result)) == b"tick"
        result.close()
        assert ticks.closed.wait(10)
        assert len(ticks.produced) < 1000
        # What the worker sent meanwhile is at most what the reply channel
        # holds, and is dropped when the next request uses the prefix.
        assert layer.global_statistics()["messages_pending"] <= 4
        assert serve(front, make_environ(PATH_INFO="/next"))[1] == b"next"
        assert layer.global_statistics()["messages_pending"] == 0
    finally:
        worker.stop()
