"""
ASGI 3 HTTP clients driven by hand, for tests/test_replies.py: each request
is one call of the front's application, whose client leaves when told.
Python 3.9+ only (the test module imports this one after skipping older
Pythons).
"""
from __future__ import absolute_import

import asyncio

#: How long a scenario waits for what it expects before failing.
WAIT = 10


class Client(object):
    """One HTTP request to ``front``: sent at once with ``body``; ``events`` is what the front answered."""

    def __init__(self, front, path, body=b""):
        self.events = []
        self.gone = asyncio.Event()
        self._body = body
        self._read = False
        scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": path,
                 "query_string": b"", "headers": [[b"content-length", str(len(body)).encode()]]}
        self.task = asyncio.ensure_future(front(scope, self._receive, self._send))

    def leave(self):
        """The client goes away: the front hears ``http.disconnect``."""
        self.gone.set()

    async def response(self):
        """``(status, [body chunks])`` once the front has answered."""
        await asyncio.wait_for(self.task, WAIT)
        return self.events[0]["status"], [event["body"] for event in self.events[1:]]

    async def _receive(self):
        if not self._read:
            self._read = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, event):
        self.events.append(event)


async def until(condition, what):
    """Wait, letting the loop run, until ``condition()`` is true; fail after WAIT seconds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("waited %ss for %s" % (WAIT, what))
        await asyncio.sleep(0.005)


async def take(layer, channel):
    """The next message on ``channel`` of ``layer`` (the worker's side), without blocking the loop."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        found, message = layer.receive([channel])
        if found is not None:
            return message
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("nothing arrived on %s in %ss" % (channel, WAIT))
        await asyncio.sleep(0.005)


async def leave_mid_response_then_reuse(front, worker, receives_waiting):
    """
    Request A gets its first chunk; while the front's receive for the next
    one waits in the layer, A's client leaves. Request B then goes out, and
    once a receive waits for each (``receives_waiting(2)``), the worker
    answers B in three messages. Then a late chunk for A arrives. Last,
    request C, answered in two messages. Returns B's and C's responses, the
    reply prefixes of A, B and C, and what the front counted as dropped
    once every prefix was back.
    """
    a = Client(front, "/a")
    request_a = await take(worker, "http.request")
    worker.send(request_a["reply_channel"], {"status": 200, "content": b"a1", "more_content": True})
    await until(lambda: len(a.events) == 2, "A's first chunk")
    await until(lambda: receives_waiting(1), "the receive of A's next chunk to wait")
    a.leave()
    await asyncio.wait_for(a.task, WAIT)

    b = Client(front, "/b")
    request_b = await take(worker, "http.request")
    await until(lambda: receives_waiting(2), "a receive for B to wait")
    worker.send(request_b["reply_channel"], {"status": 200, "content": b"b1", "more_content": True})
    worker.send(request_b["reply_channel"], {"content": b"b2", "more_content": True})
    worker.send(request_b["reply_channel"], {"content": b"b3"})
    answer_b = await b.response()

    # The worker, not yet told that A's client left, sends on.
    worker.send(request_a["reply_channel"], {"content": b"a2", "more_content": False})
    await until(lambda: front.prefixes.in_use == 0, "A's receive to end and its prefix to come back")
    dropped = front.prefixes.dropped
    c = Client(front, "/c")
    request_c = await take(worker, "http.request")
    worker.send(request_c["reply_channel"], {"status": 201, "content": b"c1", "more_content": True})
    worker.send(request_c["reply_channel"], {"content": b"c2"})
    answer_c = await c.response()
    prefixes = [channel[:channel.index("!") + 1] for channel in (
        request_a["reply_channel"], request_b["reply_channel"], request_c["reply_channel"])]
    return answer_b, answer_c, prefixes, dropped


async def time_up_then_reuse(front, worker, receives_waiting):
    """
    Request A gets no answer within the front's response_timeout; its
    receive still waits in the layer. Request B goes out and, once a
    receive waits for each, is answered in two messages; then A's answer
    comes, too late. Returns A's status, B's response, whether A and B
    had the same reply prefix, and what the front counted as dropped once
    every prefix was back.
    """
    a = Client(front, "/a")
    request_a = await take(worker, "http.request")
    status_a, _ = await a.response()
    b = Client(front, "/b")
    request_b = await take(worker, "http.request")
    await until(lambda: receives_waiting(2), "a receive for A and one for B to wait")
    worker.send(request_b["reply_channel"], {"status": 200, "content": b"b1", "more_content": True})
    worker.send(request_b["reply_channel"], {"content": b"b2"})
    answer_b = await b.response()
    worker.send(request_a["reply_channel"], {"status": 200, "content": b"too late"})
    await until(lambda: front.prefixes.in_use == 0, "A's receive to end and its prefix to come back")
    same = request_a["reply_channel"].split("!")[0] == request_b["reply_channel"].split("!")[0]
    return status_a, answer_b, same, front.prefixes.dropped
