"""
The operator's test of a Redis outage: ``asgiref interface`` and ``asgiref
worker`` (a WSGI application and WebSocket consumers) over a real
redis-server, HTTP and WebSocket clients running while Redis is SIGKILLed
for 5 s and started again on its port. During the outage every answer is a
quick 503 with Retry-After (or a 200 that completed), never a 500 or a
hang; within 2 s of Redis's return HTTP and new WebSockets work again; the
outage costs each process a few log lines; no process is restarted.
"""
from __future__ import absolute_import, unicode_literals

import re
import threading
import time

import pytest

from tests.redis_servers import redis_server  # noqa: F401 (a fixture)
from tests.command.test_cli import command, get  # noqa: F401 (command is a fixture)
from tests.bridge.test_outages import BACK_WITHIN, SLACK, speaking_http

#: The interface's --timeout: nothing may wait longer.
TIMEOUT = 10
OUTAGE = 5
#: At most this many log lines per process for the outage (the issue's bound: "about 20").
MOST_LINES = 20
#: One line per request or per WebSocket, outage or not: the access log, and uvicorn's lines on each WebSocket
#: (uvicorn 0.54 also logs an error for each handshake refused with an HTTP answer, which 0.55 no longer does).
PER_CONNECTION = re.compile(r"asgiref\.access: |uvicorn\.error: (\S+ - \"WebSocket |connection (open|closed|rejected)"
                            r"|ASGI callable returned without completing handshake)")


class Clients(object):
    """Clients that each make requests (or open WebSockets and echo frames) one after another, noting each outcome."""

    def __init__(self, port):
        self.port = port
        self.stopping = threading.Event()
        self.answers = []
        self.sockets = []
        self.threads = []

    def start(self, http, websocket):
        for target, count in ((self._http, http), (self._websocket, websocket)):
            for _ in range(count):
                self.threads.append(threading.Thread(target=target))
                self.threads[-1].daemon = True
                self.threads[-1].start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(TIMEOUT * 3)
            assert not thread.is_alive(), "a client hung"

    @staticmethod
    def since(moment, outcomes):
        """The first 60 of ``outcomes`` (answers or sockets) that ended after ``moment``, timed from it."""
        later = [tuple(round(value - moment, 3) if isinstance(value, float) else value for value in outcome)
                 for outcome in outcomes if max(value for value in outcome if isinstance(value, float)) > moment]
        return "seconds after %.3f:\n%s" % (moment, "\n".join(repr(outcome) for outcome in later[:60]))

    def _http(self):
        while not self.stopping.is_set():
            started = time.time()
            try:
                status, headers, _ = get(self.port, "/outage")
            except Exception as error:
                status, headers = repr(error), {}
            self.answers.append((started, time.time(), status, headers.get("retry-after")))
            time.sleep(0.05)

    def _websocket(self):
        from websockets.exceptions import ConnectionClosed, InvalidStatus
        from websockets.sync.client import connect
        while not self.stopping.is_set():
            started = time.time()
            try:
                with connect("ws://127.0.0.1:%d/chat" % self.port, open_timeout=TIMEOUT) as websocket:
                    opened = time.time()
                    while not self.stopping.is_set():
                        websocket.send("ping")
                        assert websocket.recv(TIMEOUT) == "echo: ping"
                        self.sockets.append((started, opened, time.time(), "echoed"))
                        time.sleep(0.05)
            except InvalidStatus as refused:
                self.sockets.append((started, None, time.time(), refused.response.status_code))
            except ConnectionClosed as closed:
                self.sockets.append((started, None, time.time(), closed.rcvd and closed.rcvd.code))
            except Exception as error:
                self.sockets.append((started, None, time.time(), repr(error)))
            time.sleep(0.05)


@pytest.mark.parametrize("http_clients, websocket_clients", [(4, 2)])
def test_a_five_second_redis_outage_under_traffic(command, redis_server, http_clients, websocket_clients):  # noqa: F811
    websocket_clients = websocket_clients if command.server == "uvicorn" else 0
    interface = command("interface", "--port", "0", "--layer", redis_server.url, "--timeout", str(TIMEOUT))
    worker = command("worker", "cli_apps:application", "--consumers", "cli_apps:websocket_routes", "--workers", "4",
                     "--layer", redis_server.url)
    worker.wait_for_line(r"asgiref: worker serving")
    processes = [interface.process.pid, worker.process.pid]
    clients = Clients(interface.port())
    clients.start(http_clients, websocket_clients)
    try:
        time.sleep(2)
        lines_before = [len(interface.lines), len(worker.lines)]
        killed = time.time()
        redis_server.kill()
        time.sleep(OUTAGE)
        redis_server.start()
        back = time.time()
        time.sleep(BACK_WITHIN + SLACK + 1)
    finally:
        clients.stop()

    during = [answer for answer in clients.answers if killed < answer[0] and answer[1] < back]
    assert during, "no request was made during the outage"
    assert set((status, retry_after) for _, _, status, retry_after in during) <= {(503, "2"), (200, None)}
    assert (503, "2") in set((status, retry_after) for _, _, status, retry_after in during)
    assert max(ended - started for started, ended, _, _ in clients.answers) < TIMEOUT
    assert all(status in (200, 503) for _, _, status, _ in clients.answers)
    back_200 = [ended for started, ended, status, _ in clients.answers if started > back and status == 200]
    assert back_200 and min(back_200) - back < BACK_WITHIN + SLACK, clients.since(back, clients.answers)

    if websocket_clients:
        # The sockets open at the kill were closed with 1011; new ones were refused with 503.
        cut = [outcome for started, opened, ended, outcome in clients.sockets
               if outcome != "echoed" and killed < ended < back]
        assert cut and set(cut) <= {1011, 503}, clients.since(killed, clients.sockets)
        assert 503 in cut, clients.since(killed, clients.sockets)
        reopened = [ended for started, opened, ended, outcome in clients.sockets
                    if outcome == "echoed" and opened > back]
        assert reopened and min(reopened) - back < BACK_WITHIN + SLACK, clients.since(back, clients.sockets)

    for process, before in zip((interface, worker), lines_before):
        said = [line for line in process.lines[before:] if not PER_CONNECTION.search(line)]
        assert len(said) <= MOST_LINES, "\n".join(said)
        assert any("the channel layer fails" in line for line in said)
        assert any("the channel layer works again" in line for line in said)
    assert [interface.process.pid, worker.process.pid] == processes
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_worker_at_a_port_that_speaks_another_protocol_does_not_flood_the_log(command, redis_server):  # noqa: F811
    worker = command("worker", "cli_apps:application", "--consumers", "cli_apps:websocket_routes", "--workers", "4",
                     "--layer", redis_server.url)
    worker.wait_for_line(r"asgiref: worker serving")
    port = redis_server.port
    redis_server.kill()
    # An HTTP server takes Redis's port.
    with speaking_http(port):
        time.sleep(4)
        lines = list(worker.lines)
    assert worker.process.poll() is None
    assert len(lines) <= MOST_LINES, "\n".join(lines)
    assert any("the channel layer fails: InvalidResponse" in line for line in lines)
    assert worker.stop() == 0
