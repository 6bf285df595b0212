# -*- coding: utf-8 -*-
"""WsgiToAsgiAdapter: a WSGI server in front of ASGI."""
from __future__ import absolute_import, unicode_literals

import io
import os
import re
import threading
import time

import pytest

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import ResponseAborted, WsgiToAsgiAdapter
from asgiref.wsgi.mapping import REASON_PHRASES
from tests.threads import in_thread
from tests.bridge_helpers import make_environ, native, respond, serve, serve_in_thread, StartResponse, take


@pytest.fixture
def layer():
    # asgiref 1.1's default capacity, 10, is fewer than some tests have in flight.
    return ChannelLayer(capacity=100, receive_timeout=0.2)


@pytest.fixture
def front(layer):
    return WsgiToAsgiAdapter(layer, response_timeout=5)


# WsgiToAsgiAdapter: the request.

def test_a_request_becomes_an_http_request_message_with_every_key(layer, front):
    environ = make_environ(
        body=b"name=value", REQUEST_METHOD="POST", SCRIPT_NAME="/app", PATH_INFO="/caf\xc3\xa9",
        QUERY_STRING="a=%20b", CONTENT_TYPE="application/x-www-form-urlencoded", HTTP_X_THING="yes",
        REMOTE_ADDR="10.1.2.3", REMOTE_PORT="4567")
    thread, result = serve_in_thread(front, environ)
    _, request = take(layer, "http.request")
    reply_channel = request["reply_channel"]
    assert re.match(r"http\.response\.[A-Za-z0-9_-]{12}!\d+\Z", reply_channel)
    assert sorted(request["headers"]) == [
        [b"content-length", b"10"], [b"content-type", b"application/x-www-form-urlencoded"], [b"x-thing", b"yes"]]
    del request["headers"], request["reply_channel"]
    assert request == {
        "http_version": "1.1", "method": "POST", "scheme": "http", "root_path": "/app", "path": "/app/caf\u00e9",
        "query_string": b"a=%20b", "client": ["10.1.2.3", 4567], "server": ["testserver", 80],
        "body": b"name=value",
    }
    respond(layer, {"reply_channel": reply_channel}, content=b"done")
    thread.join(10)
    assert result[0][1] == b"done"


def test_each_request_in_flight_has_a_reply_prefix_of_its_own_and_prefixes_are_reused(layer):
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    waiting = [serve_in_thread(front, make_environ()) for _ in range(3)]
    requests = [take(layer, "http.request")[1] for _ in range(3)]
    prefixes = set(request["reply_channel"].split("!")[0] + "!" for request in requests)
    assert len(prefixes) == 3
    for request in requests:
        respond(layer, request, content=b"done")
    for thread, _ in waiting:
        thread.join(10)
    for _ in range(5):
        thread, _ = serve_in_thread(front, make_environ())
        request = take(layer, "http.request")[1]
        respond(layer, request, content=b"done")
        thread.join(10)
        assert request["reply_channel"].split("!")[0] + "!" in prefixes
        assert request["reply_channel"] not in [earlier["reply_channel"] for earlier in requests]
        requests.append(request)


class RecordingLayer(ChannelLayer):
    """Records the channels of every receive on reply prefixes, and the thread that made it."""

    def __init__(self, **kwargs):
        super(RecordingLayer, self).__init__(**kwargs)
        self.receives = []

    def receive(self, channels, block=False):
        if channels[0].startswith("http.response"):
            self.receives.append((threading.current_thread(), list(channels)))
        return super(RecordingLayer, self).receive(channels, block)


def test_every_request_receives_its_own_response_behind_its_own_reply_prefix_only():
    layer = RecordingLayer(capacity=20, receive_timeout=0.2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    waiting = [serve_in_thread(front, make_environ(PATH_INFO="/%d" % n)) for n in range(20)]
    requests = [take(layer, "http.request")[1] for _ in range(20)]
    time.sleep(0.3)
    for request in reversed(requests):
        respond(layer, request, content=request["path"].encode("ascii"))
    for (thread, result), n in zip(waiting, range(20)):
        thread.join(10)
        assert result[0][1] == ("/%d" % n).encode("ascii")
    owners = dict((request["reply_channel"].split("!")[0] + "!", waiting[int(request["path"][1:])][0])
                  for request in requests)
    assert all([owners[channels[0]]] == [thread] and len(channels) == 1 for thread, channels in layer.receives)


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


def test_a_response_with_tuple_headers_is_passed_on(layer, front):
    thread, result = serve_in_thread(front, make_environ())
    request = take(layer, "http.request")[1]
    layer.send(request["reply_channel"], {"status": 200, "headers": [(b"x-pair", b"tuple")], "content": b"ok"})
    thread.join(10)
    assert result[0][0].headers == [(str("x-pair"), str("tuple"))]


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
    assert layer.global_statistics()["messages_pending"] == 0


def test_closing_early_drops_the_chunks_that_wait_unread(layer, front):
    start_response = StartResponse()
    thread, result = in_thread(front, make_environ(PATH_INFO="/stream"), start_response)
    _, request = take(layer, "http.request")
    for n in range(3):
        respond(layer, request, content=b"chunk", more=True)
    thread.join(10)
    assert next(iter(result[0])) == b"chunk"
    result[0].close()
    take(layer, "http.disconnect")
    assert layer.global_statistics()["messages_pending"] == 0


@pytest.mark.parametrize("keyword", ["response_timeout", "send_timeout"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_timeout_that_is_not_finite_is_refused_by_name(layer, keyword, value):
    with pytest.raises(ValueError) as error:
        WsgiToAsgiAdapter(layer, **{keyword: value})
    assert "%s must be a finite number above 0" % keyword in str(error.value)


def test_constructor_arguments_are_checked(layer):
    for keywords in ({"response_timeout": 0}, {"max_body_size": 0}, {"body_chunk_size": 0}, {"channel": "bad name"}):
        with pytest.raises((TypeError, ValueError)):
            WsgiToAsgiAdapter(layer, **keywords)


def streamed(front, layer, path="/"):
    """A response that has begun: its first chunk read; returns the request, the iterable and its iterator."""
    start_response = StartResponse()
    thread, result = in_thread(front, make_environ(PATH_INFO=path), start_response)
    request = take(layer, "http.request")[1]
    respond(layer, request, content=b"first", more=True)
    thread.join(10)
    chunks = iter(result[0])
    assert next(chunks) == b"first"
    return request, result[0], chunks


def test_a_response_whose_next_chunk_never_comes_raises_so_the_server_aborts_it(layer):
    request, result, chunks = streamed(WsgiToAsgiAdapter(layer, response_timeout=0.5), layer, "/stalled")
    with pytest.raises(ResponseAborted):
        next(chunks)
    result.close()
    assert take(layer, "http.disconnect")[1] == {"reply_channel": request["reply_channel"], "path": "/stalled"}


@pytest.mark.parametrize("chunk", [{"closed": True}, {"content": "text", "more_content": False}])
def test_a_closed_or_malformed_chunk_raises_so_the_server_aborts_the_response(layer, front, chunk):
    request, result, chunks = streamed(front, layer)
    layer.send(request["reply_channel"], chunk)
    with pytest.raises(ResponseAborted):
        next(chunks)
    result.close()


# asgiref 1.1's habits: the get_reply_channel() hook, an environ without wsgi.input.

class FixedReplyChannel(WsgiToAsgiAdapter):
    """A subclass as asgiref 1.1's tests wrote one: every response on one fixed channel."""

    def get_reply_channel(self):
        return "http.response.fixed"


def test_a_subclass_hook_chooses_the_reply_channel_and_a_bare_environ_is_served(layer):
    # Only what asgiref 1.1.2's test_basic gives: no wsgi.input, no server, no
    # scheme. The response is on the reply channel before the request is made.
    front = FixedReplyChannel(layer, response_timeout=5)
    environ = {str("PATH_INFO"): native("/"), str("CONTENT_TYPE"): native("text/html; charset=utf-8"),
               str("REQUEST_METHOD"): native("GET")}
    layer.send("http.response.fixed", {"status": 200, "content": b"Hi there!"})
    start_response, body = serve(front, environ)
    assert body == b"Hi there!"
    # PEP 3333: the status line is a native string (asgiref 1.1.2's test wants bytes on Python 3 too).
    assert start_response.status == native("200 OK") and type(start_response.status) is str
    _, request = take(layer, "http.request")
    assert request["reply_channel"] == "http.response.fixed"
    assert request["body"] == b"" and "body_channel" not in request
    assert front.prefixes.in_use == 0


@pytest.mark.parametrize("kind", ["!", "?"])
def test_a_process_specific_or_single_reader_channel_from_the_hook_gets_its_response(layer, kind):
    class OwnChannels(WsgiToAsgiAdapter):
        def get_reply_channel(self):
            return layer.new_channel("http.response.own?") if kind == "?" else "http.response.own!request-7"

    front = OwnChannels(layer, response_timeout=5)
    thread, result = serve_in_thread(front, make_environ())
    _, request = take(layer, "http.request")
    assert request["reply_channel"].startswith("http.response.own" + kind)
    assert request["reply_channel"] != "http.response.own?"
    respond(layer, request, content=b"yours")
    thread.join(10)
    assert result[0][1] == b"yours"
    assert front.prefixes.in_use == 0


def test_behind_the_hooks_prefix_another_channels_message_is_dropped_and_counted(layer):
    class OwnPrefix(WsgiToAsgiAdapter):
        def get_reply_channel(self):
            return "http.response.own!mine"

    front = OwnPrefix(layer, response_timeout=5)
    layer.send("http.response.own!earlier", {"status": 200, "content": b"not for this request"})
    thread, result = serve_in_thread(front, make_environ())
    _, request = take(layer, "http.request")
    respond(layer, request, content=b"mine")
    thread.join(10)
    assert result[0][1] == b"mine"
    assert front.prefixes.dropped == 1


def test_a_hook_that_returns_an_invalid_name_raises_type_error_naming_it(layer):
    class Unfinished(WsgiToAsgiAdapter):
        def get_reply_channel(self):
            return "http.response?"

    with pytest.raises(TypeError) as error:
        serve(Unfinished(layer), make_environ())
    assert "http.response?" in str(error.value)


def test_an_environ_without_wsgi_input_has_no_body_whatever_its_content_length(layer, front):
    environ = make_environ(REQUEST_METHOD="POST", CONTENT_LENGTH="5")
    del environ["wsgi.input"]
    thread, result = serve_in_thread(front, environ)
    _, request = take(layer, "http.request")
    assert request["body"] == b"" and "body_channel" not in request
    respond(layer, request, content=b"done")
    thread.join(10)
    assert result[0][1] == b"done"
