"""The HTTP server of the asgiref command: waitress, an access log, a graceful stop."""
from __future__ import absolute_import, unicode_literals

import contextlib
import logging
import socket
import sys
import threading
import time

import pytest
from six.moves import http_client

from asgiref.command.waitress_server import HttpServer


def hello(environ, start_response):
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [b"hello ", environ["PATH_INFO"].encode("latin-1")]


def kept_alive(environ, start_response):
    """hello with a Content-Length: its connection stays open for the next request."""
    body = b"hello " + environ["PATH_INFO"].encode("latin-1")
    start_response(str("200 OK"), [(str("Content-Length"), str(len(body)))])
    return [body]


def serve_in_thread(server, drain_timeout=10):
    result = []
    thread = threading.Thread(target=lambda: result.append(server.serve(drain_timeout)))
    thread.daemon = True
    thread.start()
    return thread, result


@contextlib.contextmanager
def serving(application, **options):
    """A server of ``application`` (with ``options``) serving in a thread while the block runs."""
    server = HttpServer(application, port=0, threads=2, **options)
    thread, _ = serve_in_thread(server)
    try:
        yield server
    finally:
        server.stop()
        thread.join(10)


def get(port, path):
    connection = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def served_once(caplog, application, path, level=logging.INFO):
    """
    GET ``path`` once from a server of ``application`` with the access log
    at ``level``: ``(status, body)`` and the access-log lines.
    """
    with caplog.at_level(level, logger="asgiref.access"):
        server = HttpServer(application, port=0, threads=2)
        assert server.port > 0
        assert server.url == "http://127.0.0.1:%d/" % server.port
        thread, result = serve_in_thread(server)
        answer = get(server.port, path)
        server.stop()
        thread.join(10)
    assert result == [True]
    return answer, [record.getMessage() for record in caplog.records if record.name == "asgiref.access"]


def test_serves_on_a_free_port_and_logs_each_request(caplog):
    answer, lines = served_once(caplog, hello, "/a?b=c")
    assert answer == (200, b"hello /a")
    assert len(lines) == 1
    assert lines[0].startswith('127.0.0.1 "GET /a?b=c HTTP/1.1" 200 8 ')


def one_item(environ, start_response):
    """A one-item list and no Content-Length: the server can count it."""
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [b"one item " + environ["PATH_INFO"].encode("latin-1")]


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_a_one_item_list_goes_out_with_a_content_length_on_a_kept_alive_connection(caplog, level):
    with caplog.at_level(level, logger="asgiref.access"):
        server = HttpServer(one_item, port=0, threads=2)
        thread, _ = serve_in_thread(server)
        try:
            connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            answers = []
            for path in ("/a", "/b"):
                connection.request("GET", path)
                response = connection.getresponse()
                answers.append((response.getheader("Content-Length"), response.getheader("Transfer-Encoding"),
                                response.getheader("Connection"), response.read()))
            connection.close()
        finally:
            server.stop()
            thread.join(10)
    # Not chunked, and no Connection: close.
    assert answers == [("11", None, None, b"one item /a"), ("11", None, None, b"one item /b")]
    lines = [record.getMessage() for record in caplog.records if record.name == "asgiref.access"]
    assert len(lines) == (2 if level == logging.INFO else 0)


def test_a_streamed_response_is_logged_with_its_size_once_it_has_been_sent(caplog):
    def streaming(environ, start_response):
        start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
        for chunk in (b"abc", b"", b"defgh"):
            yield chunk

    answer, lines = served_once(caplog, streaming, "/stream")
    assert answer == (200, b"abcdefgh")
    assert len(lines) == 1 and lines[0].startswith('127.0.0.1 "GET /stream HTTP/1.1" 200 8 ')


def test_an_application_error_is_logged_and_raised_to_the_server(caplog):
    def failing(environ, start_response):
        raise RuntimeError("failed")

    answer, lines = served_once(caplog, failing, "/fail")
    assert answer[0] == 500
    assert len(lines) == 1 and lines[0].startswith('127.0.0.1 "GET /fail HTTP/1.1" - 0 ')


def test_with_access_logs_off_nothing_is_logged(caplog):
    answer, lines = served_once(caplog, hello, "/quiet", level=logging.WARNING)
    assert answer == (200, b"hello /quiet")
    assert lines == []


def test_a_stop_waits_for_requests_in_flight_and_refuses_new_connections():
    started = threading.Event()

    def slow(environ, start_response):
        started.set()
        time.sleep(1)
        start_response(str("200 OK"), [])
        return [b"done"]

    server = HttpServer(slow, port=0, threads=2)
    thread, result = serve_in_thread(server)
    answers = []
    client = threading.Thread(target=lambda: answers.append(get(server.port, "/")))
    client.start()
    assert started.wait(10)
    server.stop()
    time.sleep(0.2)
    with pytest.raises(socket.error):
        socket.create_connection(("127.0.0.1", server.port), timeout=2)
    client.join(10)
    thread.join(10)
    assert answers == [(200, b"done")]
    assert result == [True]


def test_a_stop_after_the_server_has_stopped_does_nothing():
    server = HttpServer(hello, port=0, threads=2)
    thread, result = serve_in_thread(server)
    server.stop()
    thread.join(10)
    assert result == [True]
    # Its loop and wake-up pipe are closed by now: a second stop (a signal, a test's teardown) is no error.
    server.stop()


def test_a_stop_gives_up_after_the_drain_timeout():
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()

    def stuck(environ, start_response):
        started.set()
        release.wait(4)
        finished.set()
        start_response(str("200 OK"), [])
        return [b""]

    server = HttpServer(stuck, port=0, threads=1)
    result = []
    # Whether the stuck request had finished when serve() returned: the stop
    # must not wait for it beyond the drain timeout (waitress's own shutdown
    # would wait up to 5 s more).
    thread = threading.Thread(target=lambda: result.extend([server.serve(0.3), finished.is_set()]))
    thread.daemon = True
    thread.start()
    answers = []

    def client():
        try:
            answers.append(get(server.port, "/"))
        except Exception as error:
            answers.append(error)

    asking = threading.Thread(target=client)
    asking.start()
    assert started.wait(10)
    server.stop()
    thread.join(10)
    release.set()
    asking.join(10)
    assert result == [False, False]
    # The stuck request was cut short: no response reached the client.
    assert len(answers) == 1 and isinstance(answers[0], Exception)


def raw_request(port, head, timeout=10):
    """Send ``head`` (a request without its body) on a new socket; return the socket."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(head)
    return sock


def read_all(sock):
    """What the server sends until it closes the connection."""
    data = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(data)
        data.append(chunk)


def test_a_body_over_max_body_size_gets_413_from_waitress_before_it_is_read():
    called = []

    def reading(environ, start_response):
        called.append(environ["wsgi.input"].read())
        start_response(str("200 OK"), [])
        return [b"read %d" % len(called[-1])]

    with serving(reading, max_body_size=1000) as server:
        connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("POST", "/", body=b"x" * 1000)
        assert connection.getresponse().read() == b"read 1000"
        # 200 MB announced, none sent: the answer comes without waiting for them.
        sock = raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n")
        answer = read_all(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nConnection: close\r\n" in answer
    assert called == [b"x" * 1000]


def test_beyond_connection_limit_a_connection_waits_until_another_closes():
    with serving(kept_alive, connection_limit=1) as server:
        first = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        first.request("GET", "/first")
        assert first.getresponse().read() == b"hello /first"
        waiting = raw_request(server.port, b"GET /second HTTP/1.0\r\n\r\n", timeout=1)
        with pytest.raises(socket.timeout):
            waiting.recv(1)
        first.close()
        waiting.settimeout(10)
        answer = read_all(waiting)
        waiting.close()
    assert answer.startswith(b"HTTP/1.0 200 ") and answer.endswith(b"hello /second")


def test_an_idle_connection_is_closed_after_channel_timeout():
    with serving(kept_alive, channel_timeout=1) as server:
        sock = raw_request(server.port, b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n", timeout=30)
        answer = read_all(sock)
        sock.close()
    # The keep-alive response, then the server closes the idle connection.
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello /idle")


class Gates(object):
    """A WSGI application whose /slow and /stream requests wait for the test to open their gate."""

    def __init__(self):
        self.started = dict((path, threading.Event()) for path in ("/slow", "/stream"))
        self.gates = dict((path, threading.Event()) for path in ("/slow", "/stream"))

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/stream":
            return self.stream(start_response)
        if path == "/slow":
            self.started[path].set()
            self.gates[path].wait(10)
        body = b"done " + path.encode("latin-1")
        start_response(str("200 OK"), [(str("Content-Length"), str(len(body)))])
        return [body]

    def stream(self, start_response):
        start_response(str("200 OK"), [(str("Content-Length"), str(8))])
        yield b"first "
        self.started["/stream"].set()
        self.gates["/stream"].wait(10)
        yield b"-2"


def answer(connection, path):
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_a_stop_closes_idle_kept_alive_connections_at_once_and_busy_ones_after_their_response():
    application = Gates()
    server = HttpServer(application, port=0, threads=4)
    thread, result = serve_in_thread(server)
    idle = http_client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert answer(idle, "/fast") == (200, None, b"done /fast")
    busy = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    answers = []
    client = threading.Thread(target=lambda: answers.append(answer(busy, "/slow")))
    client.start()
    assert application.started["/slow"].wait(10)
    server.stop()
    # The idle connection is closed while the slow request is still running.
    assert idle.sock.recv(1) == b""
    assert not application.gates["/slow"].is_set()
    application.gates["/slow"].set()
    client.join(10)
    thread.join(10)
    assert answers == [(200, "close", b"done /slow")]
    assert result == [True]


def test_a_request_on_a_kept_alive_connection_while_draining_is_the_last_on_it():
    application = Gates()
    server = HttpServer(application, port=0, threads=4)
    thread, result = serve_in_thread(server)
    # /slow keeps the drain going while /stream, already answering, finishes.
    holding = threading.Thread(target=lambda: answer(http_client.HTTPConnection("127.0.0.1", server.port), "/slow"))
    holding.start()
    streaming = http_client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    streaming.request("GET", "/stream")
    response = streaming.getresponse()
    assert application.started["/stream"].wait(10) and application.started["/slow"].wait(10)
    server.stop()
    application.gates["/stream"].set()
    assert response.read() == b"first -2" and response.getheader("Connection") is None
    # The connection is now idle: either the drain closes it first, or the
    # request sent on it is answered and it closes after.
    try:
        next_answer = answer(streaming, "/fast")
    except (http_client.HTTPException, socket.error):
        next_answer = "closed"
    application.gates["/slow"].set()
    holding.join(10)
    thread.join(10)
    assert next_answer in ("closed", (200, "close", b"done /fast"))
    assert result == [True]


def test_an_address_in_use_is_an_os_error():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises((OSError, IOError)):
            HttpServer(hello, port=taken.getsockname()[1])
    finally:
        taken.close()


def test_without_waitress_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "waitress", None)
    monkeypatch.setitem(sys.modules, "waitress.server", None)
    with pytest.raises(ImportError) as error:
        HttpServer(hello, port=0)
    assert 'pip install ".[serve]" in a checkout' in str(error.value)
