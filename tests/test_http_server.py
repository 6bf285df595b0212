"""The HTTP server of the asgiref command: waitress, an access log, a graceful stop."""
from __future__ import unicode_literals

import logging
import socket
import sys
import threading
import time

import pytest
from six.moves import http_client

from asgiref.http_server import HttpServer


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


def get(port, path):
    connection = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def test_serves_on_a_free_port_and_logs_each_request(caplog):
    with caplog.at_level(logging.INFO, logger="asgiref.access"):
        server = HttpServer(hello, port=0, threads=2)
        assert server.port > 0
        assert server.url == "http://127.0.0.1:%d/" % server.port
        thread, result = serve_in_thread(server)
        assert get(server.port, "/a?b=c") == (200, b"hello /a")
        server.stop()
        thread.join(10)
    assert result == [True]
    lines = [record.getMessage() for record in caplog.records if record.name == "asgiref.access"]
    assert len(lines) == 1
    assert lines[0].startswith('127.0.0.1 "GET /a?b=c HTTP/1.1" 200 8 ')


def test_with_access_logs_off_nothing_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="asgiref.access"):
        server = HttpServer(hello, port=0, threads=2)
        thread, _ = serve_in_thread(server)
        assert get(server.port, "/quiet") == (200, b"hello /quiet")
        server.stop()
        thread.join(10)
    assert [record for record in caplog.records if record.name == "asgiref.access"] == []


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


def test_a_stop_gives_up_after_the_drain_timeout():
    release = threading.Event()
    started = threading.Event()

    def stuck(environ, start_response):
        started.set()
        release.wait(10)
        start_response(str("200 OK"), [])
        return [b""]

    server = HttpServer(stuck, port=0, threads=1)
    thread, result = serve_in_thread(server, drain_timeout=0.3)
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
    assert result == [False]
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

    server = HttpServer(reading, port=0, threads=2, max_body_size=1000)
    thread, _ = serve_in_thread(server)
    try:
        connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("POST", "/", body=b"x" * 1000)
        assert connection.getresponse().read() == b"read 1000"
        # 200 MB announced, none sent: the answer comes without waiting for them.
        sock = raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n")
        answer = read_all(sock)
        sock.close()
    finally:
        server.stop()
        thread.join(10)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nConnection: close\r\n" in answer
    assert called == [b"x" * 1000]


def test_beyond_connection_limit_a_connection_waits_until_another_closes():
    server = HttpServer(kept_alive, port=0, threads=2, connection_limit=1)
    thread, _ = serve_in_thread(server)
    try:
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
    finally:
        server.stop()
        thread.join(10)
    assert answer.startswith(b"HTTP/1.0 200 ") and answer.endswith(b"hello /second")


def test_an_idle_connection_is_closed_after_channel_timeout():
    server = HttpServer(kept_alive, port=0, threads=2, channel_timeout=1)
    thread, _ = serve_in_thread(server)
    try:
        sock = raw_request(server.port, b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n", timeout=30)
        answer = read_all(sock)
        sock.close()
    finally:
        server.stop()
        thread.join(10)
    # The keep-alive response, then the server closes the idle connection.
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello /idle")


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
    assert 'pip install "asgiref[serve]"' in str(error.value)
