# -*- coding: utf-8 -*-
"""AsgiToWsgiAdapter: a WSGI application behind ASGI."""
from __future__ import absolute_import, unicode_literals

import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import six

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter, RequestAborted
from tests.threads import in_thread
from tests.bridge_helpers import handle, http_request, native, replies, take, Ticks


@pytest.fixture
def layer():
    # asgiref 1.1's default capacity, 10, is fewer than some tests have in flight.
    return ChannelLayer(capacity=100, receive_timeout=0.2)


# AsgiToWsgiAdapter: the environ and the request body.
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
    ticks = Ticks()

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        return ticks

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=2)
    request = http_request(layer, path="/ticks")
    layer.send("http.request", request)
    take(layer, request["reply_channel"])
    layer.send("http.disconnect", {"reply_channel": request["reply_channel"], "path": "/ticks"})
    assert ticks.closed.wait(10)
    assert len(ticks.produced) < 1000
    assert worker.stop(10)


def test_a_client_that_left_before_its_request_was_taken_is_not_served_and_holds_no_worker(layer):
    # Its http.disconnect is taken first (the worker that takes it serves
    # nothing for it yet). Run, the application's response, bigger than the
    # reply channel holds, would wait there for room nobody will ever make.
    small = ChannelLayer(capacity=2, receive_timeout=0.2)
    ran = []

    def application(environ, start_response):
        ran.append(environ["PATH_INFO"])
        start_response(str("200 OK"), [])
        return [b"chunk"] * 10

    worker = AsgiToWsgiAdapter(application, small, send_timeout=30)
    worker.start(threads=1)
    gone = http_request(small, path="/gone")
    small.send("http.disconnect", {"reply_channel": gone["reply_channel"], "path": "/gone"})
    deadline = time.time() + 10
    while small.channel_statistics("http.disconnect")["messages_pending"] and time.time() < deadline:
        time.sleep(0.01)
    small.send("http.request", gone)
    waiting = http_request(small, path="/next")
    small.send("http.request", waiting)
    started = time.time()
    assert replies(small, waiting, timeout=10)[0]["status"] == 200
    assert time.time() - started < 10
    assert ran == ["/next"]
    assert small.receive([gone["reply_channel"]]) == (None, None)
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


@pytest.mark.parametrize("exit_exception", [SystemExit, KeyboardInterrupt])
def test_system_exit_or_keyboard_interrupt_from_the_application_fails_the_request_not_the_worker(
        layer, exit_exception, caplog):
    def application(environ, start_response):
        if environ["PATH_INFO"] == "/exit":
            raise exit_exception()
        start_response(str("200 OK"), [])
        return [b"still here"]

    worker = AsgiToWsgiAdapter(application, layer)
    worker.start(threads=2)
    try:
        exits = [http_request(layer, path="/exit") for _ in range(10)]
        for request in exits:
            layer.send("http.request", request)
        assert [replies(layer, request, timeout=5)[0]["status"] for request in exits] == [500] * 10
        others = [http_request(layer, path="/ok") for _ in range(4)]
        for request in others:
            layer.send("http.request", request)
        assert [replies(layer, request, timeout=5)[0]["content"] for request in others] == [b"still here"] * 4
    finally:
        assert worker.stop(10)
    assert exit_exception.__name__ in caplog.text


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


@pytest.mark.parametrize("keyword", ["body_timeout", "send_timeout"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_worker_timeout_that_is_not_finite_is_refused_by_name(layer, keyword, value):
    with pytest.raises(ValueError) as error:
        AsgiToWsgiAdapter(None, layer, **{keyword: value})
    assert "%s must be a finite number above 0" % keyword in str(error.value)


def test_constructor_arguments_are_checked(layer):
    for keywords in ({"body_timeout": -1}, {"send_timeout": 0}, {"chunk_size": 0}, {"channel": "a!b"}):
        with pytest.raises((TypeError, ValueError)):
            AsgiToWsgiAdapter(None, layer, **keywords)
