"""
A channel layer that fails under the bridge: a real redis-server SIGKILLed
and restarted. Every loop that calls the layer lives on: it backs off, logs
the outage once and its end once, and works again within 2 s of Redis's
return. The fronts answer 503 with Retry-After at once, and a request the
outage caught midway ends cleanly.
"""
from __future__ import absolute_import, unicode_literals

import contextlib
import logging
import socket
import threading
import time

import pytest

from asgiref.consumers import Consumers
from asgiref.command.demo_live import PATH, LiveStatistics
from asgiref.bridge.http_checks import RETRY_AFTER
from asgiref.wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter
from tests.bridge_helpers import http_request, make_environ, replies, serve, take
from tests.redis_servers import redis_server, require_redis  # noqa: F401 (a fixture)
from tests.bridge.test_fronts import get, serve as front  # noqa: F401 (a fixture)
from tests.threads import in_thread

try:
    from asgiref.redis import RedisChannelLayer
except ImportError:
    RedisChannelLayer = None

#: The promise: the layer is in use again within 2 s of its return...
BACK_WITHIN = 2
#: ...give or take a machine shared with other tests.
SLACK = 2


@pytest.fixture
def server(redis_server):  # noqa: F811
    return redis_server


@pytest.fixture
def logged(caplog):
    """The asgiref log records of the test, from INFO up."""
    caplog.set_level(logging.INFO, logger="asgiref")
    return lambda: [record for record in caplog.records if record.name.startswith("asgiref")]


def layer_of(server):
    return RedisChannelLayer(hosts=[server.url], receive_timeout=0.5)


def outage(server, seconds=2):
    """Redis SIGKILLed for ``seconds``, then started again on its port; returns when it listens."""
    server.kill()
    time.sleep(seconds)
    server.start()


def wait_until(condition, timeout, meanwhile=lambda: None):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "not within %ss" % timeout
        meanwhile()
        time.sleep(0.02)


def said_once_and_said_over(logged, who, meanwhile=lambda: None):
    """
    The outage of ``who``: one error line when it began, one warning when it
    ended, nothing else. ``meanwhile`` calls the layer (a front calls it only
    for a request): the end is said at a call a second after the last failure.
    """
    wait_until(lambda: len([record for record in logged() if who in record.getMessage()]) >= 2, 5, meanwhile)
    began, ended = [record for record in logged() if who in record.getMessage()]
    assert began.levelname == "ERROR" and "the channel layer fails: RedisUnavailable" in began.getMessage()
    assert ended.levelname == "WARNING" and "the channel layer works again" in ended.getMessage()
    assert not any(record.exc_info for record in logged())


def hello(environ, start_response):
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [b"hello"]


# The loops.

def test_worker_threads_live_through_an_outage_and_serve_within_2_s_of_redis_returning(server, logged):
    layer = layer_of(server)
    worker = AsgiToWsgiAdapter(hello, layer)
    worker.start(4)
    try:
        outage(server)
        back = time.time()
        request = http_request(layer)
        layer.send("http.request", request)
        assert replies(layer, request, timeout=BACK_WITHIN + SLACK)[0]["content"] == b"hello"
        assert time.time() - back < BACK_WITHIN + SLACK
        assert all(thread.is_alive() for thread in worker._threads)
        said_once_and_said_over(logged, "asgiref worker")
        assert len(logged()) == 2
    finally:
        assert worker.stop(10)


def test_consumer_threads_live_through_an_outage(server, logged):
    layer = layer_of(server)

    def answer(message, channel_layer):
        channel_layer.send(message["reply_channel"], {"answer": message["n"]})
    consumers = Consumers({"test.ask": answer}, layer)
    consumers.start(4)
    try:
        outage(server)
        back = time.time()
        layer.send("test.ask", {"reply_channel": "test.answer!1", "n": 1})
        assert take(layer, "test.answer!", BACK_WITHIN + SLACK) == ("test.answer!1", {"answer": 1})
        assert time.time() - back < BACK_WITHIN + SLACK
        said_once_and_said_over(logged, "asgiref consumers")
        assert len(logged()) == 2
    finally:
        assert consumers.stop(10)


def test_the_demo_statistics_thread_lives_through_an_outage(server, logged):
    layer = layer_of(server)
    live = LiveStatistics(layer, interval=0.1)
    live.start()
    try:
        outage(server)
        # A restarted Redis has forgotten the group: a browser that comes back joins again.
        live.connect({"path": PATH, "reply_channel": "test.browser!1"}, layer)
        assert take(layer, "test.browser!")[1]["accept"] is True
        assert "http.request" in take(layer, "test.browser!", BACK_WITHIN + SLACK)[1]["text"]
        said_once_and_said_over(logged, "asgiref demo statistics")
        assert live._thread.is_alive()
    finally:
        live.stop()


# A request the outage caught in the worker.

@pytest.mark.parametrize("then", ["answers", "reads its body"])
def test_a_request_the_outage_catches_in_the_worker_ends_with_one_line(server, logged, then):
    layer = layer_of(server)

    def application(environ, start_response):
        server.kill()
        if then == "reads its body":
            environ["wsgi.input"].read()
        return hello(environ, start_response)
    worker = AsgiToWsgiAdapter(application, layer)
    request = http_request(layer, method="POST", body=b"first", body_channel=layer.new_channel("http.request.body?"))
    layer.send(request["body_channel"], {"content": b" and more", "more_content": False})
    worker.handle(request)
    lost, began = logged()
    assert lost.levelname == "WARNING"
    assert lost.getMessage() == "%s: response not sent: the channel layer failed (RedisUnavailable: %s)" % (
        request["reply_channel"], began.getMessage().split("RedisUnavailable: ", 1)[1])
    assert "asgiref worker: the channel layer fails" in began.getMessage()
    assert not worker._in_flight
    server.start()
    worker.application = hello
    request = http_request(layer)
    worker.handle(request)
    assert replies(layer, request)[0]["content"] == b"hello"


def test_a_response_the_outage_cuts_off_in_the_worker_ends_with_one_line(server, logged):
    layer = layer_of(server)

    def application(environ, start_response):
        start_response(str("200 OK"), [])
        yield b"first"
        server.kill()
        yield b"second"
    worker = AsgiToWsgiAdapter(application, layer)
    request = http_request(layer)
    in_thread(worker.handle, request)[0].join(10)
    lost = logged()[0]
    assert lost.getMessage().startswith("%s: response cut off: the channel layer failed" % request["reply_channel"])
    assert len(logged()) == 2 and not any(record.exc_info for record in logged())


def test_an_application_whose_own_layer_call_fails_ends_with_one_line(server, logged):
    layer = layer_of(server)

    def application(environ, start_response):
        server.kill()
        layer.global_statistics()
    request = http_request(layer)
    AsgiToWsgiAdapter(application, layer).handle(request)
    lost, began = logged()
    assert lost.getMessage().startswith("%s: response not sent: the channel layer failed" % request["reply_channel"])
    assert not any(record.exc_info for record in logged())


def test_a_consumer_whose_layer_call_fails_is_one_line_and_its_own_mistake_a_traceback(server, logged):
    layer = layer_of(server)

    def answer(message, channel_layer):
        if message.get("kill"):
            server.kill()
        channel_layer.send(message.get("reply_channel", "not a channel name!?"), {"answer": 1})
    consumers = Consumers({"test.ask": answer}, layer)
    consumers.handle("test.ask", {"reply_channel": "test.answer!1"})
    consumers.handle("test.ask", {})
    mistake, = logged()
    assert mistake.getMessage() == "consumer of test.ask failed on a message" and mistake.exc_info
    consumers.handle("test.ask", {"reply_channel": "test.answer!1", "kill": True})
    lost, began = logged()[1:]
    assert lost.levelname == "WARNING" and not lost.exc_info
    assert lost.getMessage().startswith(
        "consumer of test.ask did not finish: the channel layer failed (RedisUnavailable")
    assert began.getMessage().startswith("asgiref consumers: the channel layer fails: RedisUnavailable")


# The fronts.

def test_while_redis_is_down_a_request_is_answered_503_with_retry_after_at_once(server, logged):
    front = WsgiToAsgiAdapter(layer_of(server), response_timeout=30)
    server.kill()
    started = time.time()
    start_response, body = serve(front, make_environ())
    assert time.time() - started < 5
    assert start_response.status == "503 Service Unavailable"
    assert (str("Retry-After"), str(RETRY_AFTER)) in [(name.title(), value) for name, value in start_response.headers]
    assert b"try again shortly" in body
    began, = logged()
    assert began.getMessage().startswith("asgiref interface: the channel layer fails: RedisUnavailable")


def test_a_front_waiting_for_its_response_when_redis_goes_answers_503(server, front):  # noqa: F811
    layer = layer_of(server)
    http = front(layer, response_timeout=30)
    thread, result = in_thread(get, http, "/waits")
    take(layer, "http.request")
    started = time.time()
    server.kill()
    thread.join(30)
    assert time.time() - started < 5
    assert result[0].status_code == 503 and result[0].headers["Retry-After"] == str(RETRY_AFTER)


def test_both_fronts_answer_503_during_an_outage_and_200_within_2_s_after_it(server, front, logged):  # noqa: F811
    layer = layer_of(server)
    http = front(layer, response_timeout=30)
    worker = AsgiToWsgiAdapter(hello, layer_of(server))
    worker.start(2)
    try:
        assert get(http, "/before").status_code == 200
        server.kill()
        answers = [get(http, "/during") for _ in range(20)]
        assert [answer.status_code for answer in answers] == [503] * 20
        server.start()
        back = time.time()
        assert get(http, "/after").text == "hello"
        assert time.time() - back < BACK_WITHIN + SLACK
        said_once_and_said_over(logged, "asgiref interface", lambda: get(http, "/later"))
    finally:
        worker.stop(10)


def test_a_started_response_that_loses_redis_is_cut_off(server, front):  # noqa: F811
    import requests
    layer = layer_of(server)
    http = front(layer, response_timeout=30)
    thread, result = in_thread(lambda: get(http, "/streams", stream=True))
    _, request = take(layer, "http.request")
    layer.send(request["reply_channel"], {"status": 200, "headers": [], "content": b"partial", "more_content": True})
    thread.join(10)
    server.kill()
    with pytest.raises(requests.exceptions.RequestException):
        result[0].content


@contextlib.contextmanager
def speaking_http(port=0):
    """
    A TCP server on ``port`` (0: any free one) that answers whatever it is
    sent with an HTTP 400 and closes; yields its port and a list of the
    connections it took.
    """
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(50)
    listener.settimeout(0.1)
    stopping = threading.Event()
    connections = []

    def speak_http():
        while not stopping.is_set():
            try:
                connection = listener.accept()[0]
            except socket.timeout:
                continue
            connections.append(connection)
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            connection.close()
    speaker = in_thread(speak_http)[0]
    try:
        yield listener.getsockname()[1], connections
    finally:
        stopping.set()
        speaker.join(5)
        listener.close()


def test_a_worker_pointed_at_a_port_that_speaks_another_protocol_does_not_spin(logged):
    require_redis()
    with speaking_http() as (port, connections):
        worker = AsgiToWsgiAdapter(hello, RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % port],
                                                            receive_timeout=0.5))
        worker.start(4)
        try:
            time.sleep(3)
            began, = logged()
            assert began.getMessage().startswith("asgiref worker: the channel layer fails: InvalidResponse")
            # Each thread tries at 0, 0.05, 0.15, 0.35, 0.75, 1.55 and 3.15 s, on a new connection (two at most).
            assert 4 <= len(connections) <= 4 * 7 * 2
        finally:
            worker.stop(10)
