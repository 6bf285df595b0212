# -*- coding: utf-8 -*-
"""The WSGI adapters: a WSGI server in front of ASGI, a WSGI application behind it."""
from __future__ import unicode_literals

import hashlib
import io
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import six

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter, RequestAborted, WsgiToAsgiAdapter
from asgiref.wsgi_mapping import REASON_PHRASES
from threads import in_thread

HERE = os.path.dirname(os.path.abspath(__file__))


def native(text):
    return text.encode("latin-1") if six.PY2 else text


def make_environ(body=b"", **extra):
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    return dict((str(key), native(value) if isinstance(value, six.text_type) else value)
                for key, value in environ.items())


class StartResponse(object):
    """Records what an application passes to start_response."""

    def __init__(self):
        self.calls = []

    def __call__(self, status, headers, exc_info=None):
        self.calls.append((status, headers))
        return lambda data: None

    @property
    def status(self):
        return self.calls[-1][0]

    @property
    def headers(self):
        return self.calls[-1][1]


def take(layer, channel, timeout=10):
    """The next message on ``channel``, waiting for it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found, message = layer.receive([channel], block=True)
        if found is not None:
            return found, message
    raise AssertionError("nothing arrived on %s" % channel)


def respond(layer, request, status=200, headers=(), content=b"", more=False):
    layer.send(request["reply_channel"], {
        "status": status, "headers": [list(header) for header in headers], "content": content,
        "more_content": more})


@pytest.fixture
def layer():
    return ChannelLayer(receive_timeout=0.2)


@pytest.fixture
def front(layer):
    return WsgiToAsgiAdapter(layer, response_timeout=5)


def serve(front, environ):
    """Run the front adapter as a WSGI server would; return (start_response, body bytes)."""
    start_response = StartResponse()
    result = front(environ, start_response)
    try:
        return start_response, b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()


def serve_in_thread(front, environ):
    return in_thread(serve, front, environ)


# WsgiToAsgiAdapter: the request.

def test_a_request_becomes_an_http_request_message_with_every_key(layer, front):
    environ = make_environ(
        body=b"name=value", REQUEST_METHOD="POST", SCRIPT_NAME="/app", PATH_INFO="/caf\xc3\xa9",
        QUERY_STRING="a=%20b", CONTENT_TYPE="application/x-www-form-urlencoded", HTTP_X_THING="yes",
        REMOTE_ADDR="10.1.2.3", REMOTE_PORT="4567")
    thread, result = serve_in_thread(front, environ)
    _, request = take(layer, "http.request")
    assert re.match(r"http\.response\.[A-Za-z0-9_-]{12}!\d+\Z", request["reply_channel"])
    assert request["reply_channel"].startswith(front.reply_prefix)
    assert sorted(request["headers"]) == [
        [b"content-length", b"10"], [b"content-type", b"application/x-www-form-urlencoded"], [b"x-thing", b"yes"]]
    del request["headers"], request["reply_channel"]
    assert request == {
        "http_version": "1.1", "method": "POST", "scheme": "http", "root_path": "/app", "path": "/app/caf\u00e9",
        "query_string": b"a=%20b", "client": ["10.1.2.3", 4567], "server": ["testserver", 80],
        "body": b"name=value",
    }
    respond(layer, {"reply_channel": front.reply_prefix + "0"}, content=b"done")
    thread.join(10)
    assert result[0][1] == b"done"


def test_each_request_gets_its_own_reply_channel_behind_one_unguessable_prefix(layer):
    first, second = WsgiToAsgiAdapter(layer, response_timeout=0.5), WsgiToAsgiAdapter(layer, response_timeout=0.5)
    assert first.reply_prefix != second.reply_prefix
    for _ in range(3):
        serve(first, make_environ())
    channels = [take(layer, "http.request")[1]["reply_channel"] for _ in range(3)]
    assert len(set(channels)) == 3
    assert all(channel.startswith(first.reply_prefix) for channel in channels)


class CountingLayer(ChannelLayer):
    """Counts the receives on reply prefixes running at once."""

    def __init__(self, **kwargs):
        super(CountingLayer, self).__init__(**kwargs)
        self.running = 0
        self.most_at_once = 0
        self.count_lock = threading.Lock()

    def receive(self, channels, block=False):
        counted = any(channel.startswith("http.response.") for channel in channels)
        if counted:
            with self.count_lock:
                self.running += 1
                self.most_at_once = max(self.most_at_once, self.running)
        try:
            return super(CountingLayer, self).receive(channels, block)
        finally:
            if counted:
                with self.count_lock:
                    self.running -= 1


def test_one_receive_at_a_time_takes_every_response_to_its_request():
    # Room for all 20 requests at once (the layer's own default is 10).
    layer = CountingLayer(capacity=20, receive_timeout=0.2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    waiting = [serve_in_thread(front, make_environ(PATH_INFO="/%d" % n)) for n in range(20)]
    requests = [take(layer, "http.request")[1] for _ in range(20)]
    time.sleep(0.3)
    for request in reversed(requests):
        respond(layer, request, content=request["path"].encode("ascii"))
    for (thread, result), n in zip(waiting, range(20)):
        thread.join(10)
        assert result[0][1] == ("/%d" % n).encode("ascii")
    assert layer.most_at_once == 1
    # No thread of its own is left behind.
    assert not [thread for thread in threading.enumerate() if front.reply_prefix in thread.name]


def test_a_lone_request_receives_its_own_response_in_its_own_thread():
    layer = CountingLayer(receive_timeout=0.2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    receivers = []
    original = layer.receive

    def recording_receive(channels, block=False):
        if channels[0].startswith("http.response."):
            receivers.append(threading.current_thread())
        return original(channels, block)

    layer.receive = recording_receive
    thread, result = serve_in_thread(front, make_environ())
    respond(layer, take(layer, "http.request")[1], content=b"mine")
    thread.join(10)
    assert result[0][1] == b"mine"
    assert set(receivers) == set([thread])


def test_a_large_body_follows_on_a_body_channel_in_chunks_as_it_is_read(layer):
    front = WsgiToAsgiAdapter(layer, response_timeout=5, body_chunk_size=1000)
    body = os.urandom(4500)
    thread, result = serve_in_thread(front, make_environ(body=body, REQUEST_METHOD="PUT"))
    _, request = take(layer, "http.request")
    assert request["body"] == body[:1000]
    assert request["body_channel"].startswith("http.request.body?")
    chunks = [take(layer, request["body_channel"])[1] for _ in range(4)]
    assert [chunk["more_content"] for chunk in chunks] == [True, True, True, False]
    assert [len(chunk["content"]) for chunk in chunks] == [1000, 1000, 1000, 500]
    assert request["body"] + b"".join(chunk["content"] for chunk in chunks) == body
    respond(layer, request, status=204)
    thread.join(10)
    assert result[0][0].status == "204 No Content"


def test_a_full_body_channel_is_waited_for_so_memory_stays_bounded(layer):
    small = ChannelLayer(channel_capacity={"http.request.body*": 2}, receive_timeout=0.2)
    front = WsgiToAsgiAdapter(small, response_timeout=10, body_chunk_size=100)
    body = os.urandom(2000)
    thread, result = serve_in_thread(front, make_environ(body=body, REQUEST_METHOD="POST"))
    _, request = take(small, "http.request")
    received = [request["body"]]
    more = True
    while more:
        time.sleep(0.01)
        assert small.channel_statistics(request["body_channel"])["messages_pending"] <= 2
        _, chunk = take(small, request["body_channel"])
        received.append(chunk["content"])
        more = chunk["more_content"]
    assert b"".join(received) == body
    assert small.channel_statistics(request["body_channel"])["channel_full_count"] > 0
    respond(small, request)
    thread.join(10)
    assert result[0][0].status == "200 OK"


def test_a_terminated_input_without_a_length_is_read_to_its_end(layer):
    front = WsgiToAsgiAdapter(layer, response_timeout=5, body_chunk_size=10)
    environ = make_environ(REQUEST_METHOD="POST", **{"wsgi.input": io.BytesIO(b"x" * 25),
                                                     "wsgi.input_terminated": True})
    thread, _ = serve_in_thread(front, environ)
    _, request = take(layer, "http.request")
    rest = [take(layer, request["body_channel"])[1] for _ in range(2)]
    assert request["body"] + b"".join(chunk["content"] for chunk in rest) == b"x" * 25
    assert rest[-1]["more_content"] is False
    respond(layer, request)
    thread.join(10)


def test_an_input_without_length_or_termination_has_no_body(layer, front):
    environ = make_environ(REQUEST_METHOD="POST", **{"wsgi.input": io.BytesIO(b"ignored")})
    thread, _ = serve_in_thread(front, environ)
    _, request = take(layer, "http.request")
    assert request["body"] == b"" and "body_channel" not in request
    respond(layer, request)
    thread.join(10)


def test_a_body_over_the_maximum_gets_413_before_anything_is_sent(layer):
    front = WsgiToAsgiAdapter(layer, max_body_size=100)
    start_response, body = serve(front, make_environ(body=b"x" * 101, REQUEST_METHOD="POST"))
    assert start_response.status == "413 Content Too Large"
    assert b"over 100 bytes" in body
    assert layer.receive(["http.request"]) == (None, None)


def test_an_unannounced_body_over_the_maximum_is_abandoned_with_413(layer):
    front = WsgiToAsgiAdapter(layer, max_body_size=250, body_chunk_size=100)
    environ = make_environ(REQUEST_METHOD="POST", **{"wsgi.input": io.BytesIO(b"x" * 1000),
                                                     "wsgi.input_terminated": True})
    start_response, _ = serve(front, environ)
    assert start_response.status == "413 Content Too Large"
    _, request = take(layer, "http.request")
    chunks = []
    while not chunks or not chunks[-1].get("closed"):
        chunks.append(take(layer, request["body_channel"])[1])
    assert len(request["body"]) + sum(len(chunk.get("content", b"")) for chunk in chunks) <= 250


def test_a_client_that_sends_less_than_its_content_length_gets_400_and_the_app_is_told(layer):
    front = WsgiToAsgiAdapter(layer, body_chunk_size=10)
    environ = make_environ(REQUEST_METHOD="POST", CONTENT_LENGTH="100", **{"wsgi.input": io.BytesIO(b"x" * 35)})
    start_response, _ = serve(front, environ)
    assert start_response.status == "400 Bad Request"
    _, request = take(layer, "http.request")
    chunks = [take(layer, request["body_channel"])[1]]
    while "closed" not in chunks[-1]:
        chunks.append(take(layer, request["body_channel"])[1])
    assert chunks[-1] == {"closed": True}
    assert all(chunk["more_content"] for chunk in chunks[:-1])


@pytest.mark.parametrize("extra, status", [
    ({"PATH_INFO": "/\xff"}, "400 Bad Request"),
    ({"CONTENT_LENGTH": "ten"}, "400 Bad Request"),
    ({"CONTENT_LENGTH": "-1"}, "400 Bad Request"),
])
def test_malformed_requests_get_400(layer, front, extra, status):
    start_response, _ = serve(front, make_environ(**extra))
    assert start_response.status == status
    assert layer.receive(["http.request"]) == (None, None)


# WsgiToAsgiAdapter: the response.

@pytest.mark.parametrize("status", sorted(REASON_PHRASES))
def test_the_status_line_has_the_standard_reason_phrase(layer, front, status):
    thread, result = serve_in_thread(front, make_environ())
    respond(layer, take(layer, "http.request")[1], status=status)
    thread.join(10)
    assert result[0][0].status == "%d %s" % (status, REASON_PHRASES[status])


def test_headers_are_passed_exactly_in_order_with_repeats(layer, front):
    thread, result = serve_in_thread(front, make_environ())
    respond(layer, take(layer, "http.request")[1], headers=[
        (b"set-cookie", b"a=1"), (b"content-type", b"text/plain"), (b"set-cookie", b"b=2; Path=/"),
        (b"x-latin", b"caf\xe9")])
    thread.join(10)
    assert result[0][0].headers == [
        (str("set-cookie"), str("a=1")), (str("content-type"), str("text/plain")),
        (str("set-cookie"), str("b=2; Path=/")), (str("x-latin"), native("caf\xe9"))]


def test_response_chunks_reach_the_server_as_they_arrive(layer, front):
    start_response = StartResponse()
    thread, result = in_thread(front, make_environ(), start_response)
    _, request = take(layer, "http.request")
    respond(layer, request, content=b"first", more=True)
    thread.join(10)
    iterator = iter(result[0])
    assert next(iterator) == b"first"
    layer.send(request["reply_channel"], {"content": b"second", "more_content": True})
    assert next(iterator) == b"second"
    layer.send(request["reply_channel"], {"content": b"", "more_content": True})
    layer.send(request["reply_channel"], {"content": b"last", "more_content": False})
    assert list(iterator) == [b"last"]
    result[0].close()
    assert layer.receive(["http.disconnect"]) == (None, None)


def test_a_server_push_message_is_dropped(layer, front):
    thread, result = serve_in_thread(front, make_environ())
    request = take(layer, "http.request")[1]
    layer.send(request["reply_channel"], {"request": {"path": "/style.css"}})
    respond(layer, request, content=b"page")
    thread.join(10)
    assert result[0][1] == b"page"


def test_channel_full_on_http_request_gets_503(layer):
    full = ChannelLayer(capacity=1)
    front = WsgiToAsgiAdapter(full, response_timeout=0.5)
    full.send("http.request", {"placeholder": True})
    start_response, body = serve(front, make_environ())
    assert start_response.status == "503 Service Unavailable"
    assert b"too busy" in body


def test_no_response_in_time_gets_504_and_the_app_is_told_the_client_left(layer):
    front = WsgiToAsgiAdapter(layer, response_timeout=0.3)
    start_response, _ = serve(front, make_environ(PATH_INFO="/slow"))
    assert start_response.status == "504 Gateway Timeout"
    _, request = take(layer, "http.request")
    assert take(layer, "http.disconnect")[1] == {"reply_channel": request["reply_channel"], "path": "/slow"}


@pytest.mark.parametrize("message", [
    {"content": b"no status"},
    {"status": "200", "content": b""},
    {"status": True},
    {"status": 200, "headers": {"a": "b"}},
    {"status": 200, "headers": [["content-type", "text/plain"]]},
    {"status": 200, "headers": [[b"x", b"a\r\nset-cookie: evil=1"]]},
    {"status": 200, "content": "text"},
    {"status": 200, "more_content": "yes"},
])
def test_a_malformed_response_gets_502_and_a_log_line(layer, front, caplog, message):
    thread, result = serve_in_thread(front, make_environ())
    request = take(layer, "http.request")[1]
    layer.send(request["reply_channel"], message)
    thread.join(10)
    assert result[0][0].status == "502 Bad Gateway"
    assert any("malformed response" in record.getMessage() for record in caplog.records)


def test_closing_the_response_early_sends_http_disconnect_and_drops_the_rest(layer, front):
    start_response = StartResponse()
    thread, result = in_thread(front, make_environ(PATH_INFO="/stream"), start_response)
    _, request = take(layer, "http.request")
    respond(layer, request, content=b"first", more=True)
    thread.join(10)
    iterator = iter(result[0])
    assert next(iterator) == b"first"
    result[0].close()
    assert take(layer, "http.disconnect")[1] == {"reply_channel": request["reply_channel"], "path": "/stream"}
    layer.send(request["reply_channel"], {"content": b"late", "more_content": False})
    # The next request's receive takes the late chunk first, and drops it.
    thread, result = serve_in_thread(front, make_environ(PATH_INFO="/next"))
    respond(layer, take(layer, "http.request")[1], content=b"next")
    thread.join(10)
    assert result[0][1] == b"next"
    assert layer.global_statistics()["messages_pending"] == 0


@pytest.mark.parametrize("keyword", ["response_timeout", "send_timeout"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_timeout_that_is_not_finite_is_refused_by_name(layer, keyword, value):
    with pytest.raises(ValueError) as error:
        WsgiToAsgiAdapter(layer, **{keyword: value})
    assert "%s must be a finite number above 0" % keyword in str(error.value)


@pytest.mark.parametrize("keyword", ["body_timeout", "send_timeout"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_worker_timeout_that_is_not_finite_is_refused_by_name(layer, keyword, value):
    with pytest.raises(ValueError) as error:
        AsgiToWsgiAdapter(None, layer, **{keyword: value})
    assert "%s must be a finite number above 0" % keyword in str(error.value)


def test_constructor_arguments_are_checked(layer):
    for keywords in ({"response_timeout": 0}, {"max_body_size": 0}, {"body_chunk_size": 0}, {"channel": "bad name"}):
        with pytest.raises((TypeError, ValueError)):
            WsgiToAsgiAdapter(layer, **keywords)
    for keywords in ({"body_timeout": -1}, {"send_timeout": 0}, {"chunk_size": 0}, {"channel": "a!b"}):
        with pytest.raises((TypeError, ValueError)):
            AsgiToWsgiAdapter(None, layer, **keywords)


# AsgiToWsgiAdapter: the environ and the request body.

def http_request(layer, **extra):
    message = {
        "reply_channel": layer.new_channel("test.reply?"),
        "http_version": "1.1", "method": "GET", "path": "/", "query_string": b"", "headers": [],
    }
    message.update(extra)
    return message


def replies(layer, request, timeout=10):
    """Every message of the response to ``request``."""
    messages = []
    while not messages or messages[-1].get("more_content"):
        messages.append(take(layer, request["reply_channel"], timeout)[1])
    return messages


def handle(layer, application, request, **keywords):
    AsgiToWsgiAdapter(application, layer, **keywords).handle(request)
    return replies(layer, request)


def test_the_environ_is_complete_per_pep_3333(layer):
    seen = {}
    body = []

    def application(environ, start_response):
        seen.update(environ)
        body.append(environ["wsgi.input"].read())
        environ["wsgi.errors"].write("a problem\n")
        start_response(str("200 OK"), [])
        return []

    handle(layer, application, http_request(
        layer, method="POST", root_path="/app", path="/app/caf\u00e9", query_string=b"x=%41",
        headers=[[b"content-type", b"text/plain"], [b"accept", b"a"], [b"accept", b"b"]], body=b"hello",
        client=["1.2.3.4", 99], server=["example.com", 8000], scheme="https"))
    expected = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": native("/caf\xc3\xa9"),
        "QUERY_STRING": "x=%41", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "5", "HTTP_ACCEPT": "a,b",
        "SERVER_NAME": "example.com", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "99", "wsgi.url_scheme": "https",
    }
    for key, value in expected.items():
        assert seen[str(key)] == value
        assert type(seen[str(key)]) is str
    assert all(type(key) is str for key in seen)
    assert seen["wsgi.version"] == (1, 0)
    assert seen["wsgi.multithread"] is True and seen["wsgi.multiprocess"] is True
    assert seen["wsgi.run_once"] is False
    assert body == [b"hello"]


def test_wsgi_errors_goes_to_the_log(layer, caplog):
    def application(environ, start_response):
        environ["wsgi.errors"].write("first line\nsecond ")
        environ["wsgi.errors"].writelines(["line\n"])
        environ["wsgi.errors"].flush()
        start_response(str("200 OK"), [])
        return []

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        handle(layer, application, http_request(layer))
    messages = [record.getMessage() for record in caplog.records]
    assert "first line" in messages and "second line" in messages


def test_wsgi_file_wrapper_streams_a_file(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"a" * 10), 4)

    messages = handle(layer, application, http_request(layer))
    assert b"".join(message.get("content", b"") for message in messages) == b"a" * 10


def test_a_daphne_style_request_with_tuples_is_served(layer):
    # Daphne 1.x sends headers, client and server as tuples.
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return [environ["HTTP_HOST"].encode("latin-1") + b" " + environ["REMOTE_ADDR"].encode("latin-1")]

    request = http_request(layer, headers=[(b"host", b"example.com")], client=("10.0.0.9", 1234),
                           server=("example.com", 80))
    assert handle(layer, application, request)[0]["content"] == b"example.com 10.0.0.9"


def test_a_response_with_tuple_headers_is_passed_on(layer, front):
    thread, result = serve_in_thread(front, make_environ())
    request = take(layer, "http.request")[1]
    layer.send(request["reply_channel"], {"status": 200, "headers": [(b"x-pair", b"tuple")], "content": b"ok"})
    thread.join(10)
    assert result[0][0].headers == [(str("x-pair"), str("tuple"))]


def test_the_application_starts_before_the_body_has_all_arrived(layer):
    started = threading.Event()
    read = []

    def application(environ, start_response):
        read.append(environ["wsgi.input"].read(3))
        started.set()
        read.append(environ["wsgi.input"].read())
        start_response(str("200 OK"), [])
        return [b"".join(read)]

    body_channel = layer.new_channel("http.request.body?")
    request = http_request(layer, method="POST", body=b"abc", body_channel=body_channel)
    thread, _ = in_thread(AsgiToWsgiAdapter(application, layer).handle, request)
    assert started.wait(10)
    assert read == [b"abc"]
    layer.send(body_channel, {"content": b"def", "more_content": True})
    layer.send(body_channel, {"content": b"ghi", "more_content": False})
    thread.join(10)
    assert replies(layer, request)[0]["content"] == b"abcdefghi"


def test_readline_and_iteration_over_a_chunked_body(layer):
    def application(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.readline()
        limited = stream.readline(2)
        rest = list(stream)
        start_response(str("200 OK"), [])
        return [b"|".join([first, limited] + rest)]

    body_channel = layer.new_channel("http.request.body?")
    layer.send(body_channel, {"content": b"ne\nthr", "more_content": True})
    layer.send(body_channel, {"content": b"ee\nfour", "more_content": False})
    messages = handle(layer, application, http_request(layer, body=b"o", body_channel=body_channel))
    assert messages[0]["content"] == b"one\n|th|ree\n|four"


@pytest.mark.parametrize("chunk, reason", [
    ({"closed": True}, "client went away"),
    (None, "no request body arrived"),
])
def test_a_closed_chunk_or_a_body_timeout_abandons_the_request(layer, chunk, reason):
    errors = []

    def application(environ, start_response):
        try:
            environ["wsgi.input"].read()
        except RequestAborted as error:
            errors.append(str(error))
            raise
        start_response(str("200 OK"), [])
        return [b"never"]

    body_channel = layer.new_channel("http.request.body?")
    if chunk:
        layer.send(body_channel, chunk)
    messages = handle(layer, application, http_request(layer, body_channel=body_channel), body_timeout=0.3)
    assert reason in errors[0]
    assert isinstance(RequestAborted(), IOError)
    assert messages[0]["status"] == 500


# AsgiToWsgiAdapter: start_response and the response.

def test_one_item_response_is_one_message(layer):
    def application(environ, start_response):
        start_response(str("201 Created"), [(str("Content-Type"), str("text/plain")), (str("Set-Cookie"), str("a=1")),
                                            (str("Set-Cookie"), str("b=2"))])
        return [b"made"]

    assert handle(layer, application, http_request(layer)) == [{
        "status": 201, "content": b"made", "more_content": False,
        "headers": [[b"content-type", b"text/plain"], [b"set-cookie", b"a=1"], [b"set-cookie", b"b=2"]]}]


def test_a_generator_is_streamed_chunk_by_chunk(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        yield b""
        yield b"one"
        yield b""
        yield b"two"

    messages = handle(layer, application, http_request(layer))
    assert [(message.get("status"), message["content"], message["more_content"]) for message in messages] == [
        (200, b"one", True), (None, b"two", True), (None, b"", False)]


def test_a_list_of_chunks_marks_the_last_one(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return [b"a", b"b", b"c"]

    messages = handle(layer, application, http_request(layer))
    assert [(message["content"], message["more_content"]) for message in messages] == [
        (b"a", True), (b"b", True), (b"c", False)]


def test_an_empty_body_is_one_message(layer):
    def application(environ, start_response):
        start_response(str("204 No Content"), [])
        return []

    assert handle(layer, application, http_request(layer)) == [
        {"status": 204, "headers": [], "content": b"", "more_content": False}]


def test_write_sends_at_once(layer):
    def application(environ, start_response):
        write = start_response(str("200 OK"), [])
        write(b"written ")
        return [b"returned"]

    messages = handle(layer, application, http_request(layer))
    assert b"".join(message["content"] for message in messages) == b"written returned"
    assert messages[0]["status"] == 200 and messages[0]["content"] == b"written "


def test_oversized_chunks_are_split_below_the_message_limit(layer):
    small = ChannelLayer(max_message_size=1000, capacity=1000)
    big = os.urandom(5000)

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return [big, big]

    messages = handle(small, application, http_request(small))
    assert all(len(message["content"]) <= 500 for message in messages)
    assert b"".join(message["content"] for message in messages) == big + big
    assert messages[-1]["more_content"] is False and all(m["more_content"] for m in messages[:-1])


def test_head_responses_carry_headers_and_no_body(layer):
    closed = []

    class Body(object):
        def __iter__(self):
            yield b"x" * 100
            raise AssertionError("a HEAD response need not produce its body")

        def close(self):
            closed.append(True)

    def application(environ, start_response):
        start_response(str("200 OK"), [(str("Content-Length"), str("100"))])
        return Body()

    assert handle(layer, application, http_request(layer, method="HEAD")) == [
        {"status": 200, "headers": [[b"content-length", b"100"]], "content": b"", "more_content": False}]
    assert closed == [True]


def test_start_response_may_be_called_from_the_first_iteration(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        yield b"late start"

    assert handle(layer, application, http_request(layer))[0]["content"] == b"late start"


def test_exc_info_replaces_the_status_before_anything_is_sent(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [(str("X-First"), str("1"))])
        try:
            raise ValueError("oops")
        except ValueError:
            start_response(str("500 Internal Server Error"), [(str("X-Second"), str("2"))], sys.exc_info())
        return [b"error page"]

    assert handle(layer, application, http_request(layer)) == [
        {"status": 500, "headers": [[b"x-second", b"2"]], "content": b"error page", "more_content": False}]


def test_exc_info_after_headers_are_sent_reraises_and_ends_the_response(layer, caplog):
    def application(environ, start_response):
        write = start_response(str("200 OK"), [])
        write(b"partial")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response(str("500 Internal Server Error"), [], sys.exc_info())
        return [b"unreachable"]

    messages = handle(layer, application, http_request(layer, path="/late"))
    assert [(message["content"], message["more_content"]) for message in messages] == [
        (b"partial", True), (b"", False)]
    assert "too late" in caplog.text


def test_start_response_twice_without_exc_info_is_an_error(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        start_response(str("201 Created"), [])
        return [b"x"]

    assert handle(layer, application, http_request(layer))[0]["status"] == 500


@pytest.mark.parametrize("headers", [
    [(str("X-Evil"), str("a\r\nSet-Cookie: session=stolen"))],
    [(str("X-Evil\r\nSet-Cookie"), str("session=stolen"))],
    [(str("X-Evil"), str("a\nb"))],
])
def test_line_breaks_in_headers_are_refused_with_500_and_never_forwarded(layer, headers):
    def application(environ, start_response):
        start_response(str("200 OK"), headers)
        return [b"content"]

    messages = handle(layer, application, http_request(layer))
    assert messages[0]["status"] == 500
    assert b"stolen" not in repr(messages).encode("utf-8")


@pytest.mark.parametrize("status", ["OK", "20 OK", "200 OK\r\nX-Evil: 1"])
def test_a_bad_status_line_is_a_500(layer, status):
    def application(environ, start_response):
        start_response(str(status), [])
        return [b"x"]

    assert handle(layer, application, http_request(layer))[0]["status"] == 500


def test_an_error_before_start_response_is_a_500_without_traceback(layer, caplog):
    def application(environ, start_response):
        raise KeyError("secret detail")

    messages = handle(layer, application, http_request(layer, path="/boom"))
    assert messages[0]["status"] == 500
    assert b"secret" not in messages[0]["content"] and b"Traceback" not in messages[0]["content"]
    assert "secret detail" in caplog.text and "Traceback" in caplog.text


def test_an_error_while_streaming_ends_the_response_and_close_is_called(layer, caplog):
    closed = []

    class Body(object):
        def __iter__(self):
            yield b"first"
            raise RuntimeError("stream broke")

        def close(self):
            closed.append(True)

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return Body()

    messages = handle(layer, application, http_request(layer))
    assert [(message["content"], message["more_content"]) for message in messages] == [
        (b"first", True), (b"", False)]
    assert closed == [True]
    assert "stream broke" in caplog.text


def test_content_that_is_not_bytes_is_a_500(layer):
    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return ["text, not bytes"]

    assert handle(layer, application, http_request(layer))[0]["status"] == 500


def test_a_malformed_request_gets_400_and_one_without_reply_channel_is_dropped(layer, caplog):
    def application(environ, start_response):
        raise AssertionError("never called")

    worker = AsgiToWsgiAdapter(application, layer)
    request = http_request(layer, path=b"/bytes")
    worker.handle(request)
    assert replies(layer, request)[0]["status"] == 400
    worker.handle({"method": "GET", "path": "/"})
    assert "without a reply channel" in caplog.text


def test_a_full_reply_channel_is_retried_with_backoff(layer):
    small = ChannelLayer(capacity=1, receive_timeout=0.2)

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return (b"chunk%d" % n if six.PY3 else b"chunk" + str(n) for n in range(5))

    request = http_request(small)
    thread, _ = in_thread(AsgiToWsgiAdapter(application, small, send_timeout=10).handle, request)
    received = []
    while not received or received[-1]["more_content"]:
        time.sleep(0.02)
        received.append(take(small, request["reply_channel"])[1])
    thread.join(10)
    assert b"".join(message["content"] for message in received) == b"chunk0chunk1chunk2chunk3chunk4"


def test_a_reply_channel_that_stays_full_abandons_the_response_and_closes_the_iterable(layer, caplog):
    small = ChannelLayer(capacity=1)
    closed = []

    class Body(object):
        def __iter__(self):
            for n in range(10):
                yield b"chunk"

        def close(self):
            closed.append(True)

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return Body()

    started = time.time()
    AsgiToWsgiAdapter(application, small, send_timeout=0.3).handle(http_request(small))
    assert time.time() - started < 5
    assert closed == [True]
    assert "stayed full" in caplog.text


def test_a_disconnect_stops_the_stream_and_closes_the_iterable(layer):
    closed = threading.Event()
    produced = []

    class Body(object):
        def __iter__(self):
            for n in range(1000):
                produced.append(n)
                time.sleep(0.01)
                yield b"tick"

        def close(self):
            closed.set()

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return Body()

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=2)
    request = http_request(layer, path="/ticks")
    layer.send("http.request", request)
    take(layer, request["reply_channel"])
    layer.send("http.disconnect", {"reply_channel": request["reply_channel"], "path": "/ticks"})
    assert closed.wait(10)
    assert len(produced) < 1000
    assert worker.stop(10)


# AsgiToWsgiAdapter: worker threads.

def test_workers_serve_requests_and_survive_failing_ones(layer):
    def application(environ, start_response):
        if environ["PATH_INFO"] == "/fail":
            raise RuntimeError("failure")
        start_response(str("200 OK"), [])
        return [environ["PATH_INFO"].encode("ascii")]

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=3)
    assert len([t for t in threading.enumerate() if t.name.startswith("asgiref worker")]) >= 3
    requests = [http_request(layer, path=path) for path in ["/fail", "/a", "/fail", "/b"]]
    for request in requests:
        layer.send("http.request", request)
    statuses = [replies(layer, request)[0]["status"] for request in requests]
    assert statuses == [500, 200, 500, 200]
    assert worker.stop(10)


def test_stop_lets_requests_in_flight_finish(layer):
    started = threading.Event()

    def application(environ, start_response):
        started.set()
        time.sleep(0.5)
        start_response(str("200 OK"), [])
        return [b"finished"]

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=1)
    request = http_request(layer)
    layer.send("http.request", request)
    assert started.wait(10)
    assert worker.stop(timeout=10) is True
    assert replies(layer, request)[0]["content"] == b"finished"


def test_stop_gives_up_after_its_timeout(layer):
    release = threading.Event()

    def application(environ, start_response):
        release.wait(10)
        start_response(str("200 OK"), [])
        return [b""]

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=1)
    layer.send("http.request", http_request(layer))
    time.sleep(0.3)
    assert worker.stop(timeout=0.2) is False
    release.set()


RUN_SCRIPT = r"""
from __future__ import print_function, unicode_literals
import sys
from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter

def application(environ, start_response):
    start_response(str("200 OK"), [])
    return [b"ok"]

print("running", file=sys.stderr)
sys.stderr.flush()
AsgiToWsgiAdapter(application, ChannelLayer(receive_timeout=0.1)).run(threads=2)
print("stopped", file=sys.stderr)
"""


def test_run_serves_until_interrupted():
    process = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT], stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    assert process.stderr.readline().strip() == b"running"
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    deadline = time.time() + 10
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert process.returncode == 0
    assert process.stderr.read().strip() == b"stopped"


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
