"""
What the tests of the ASGI 3 front share: uvicorn on a free port in a
thread of this process, and WebSocket clients (Python 3.9+ only: the test
modules import this one after skipping older Pythons).
"""
from __future__ import absolute_import

import asyncio
import socket
import threading
import time

import uvicorn


class Uvicorn(object):
    """uvicorn serving ``app`` on 127.0.0.1, on a free port, from a daemon thread."""

    def __init__(self, app, **options):
        options.setdefault("log_level", "warning")
        options.setdefault("lifespan", "off")
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [listener]}, name="uvicorn")
        self.thread.daemon = True
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def ws_url(self):
        return "ws://127.0.0.1:%d" % self.port

    def close(self):
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


def mounted(app, prefix):
    """``app`` mounted under the URL ``prefix``, as a proxy that passes the full path says it."""
    async def under_prefix(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope, root_path=prefix)
        await app(scope, receive, send)
    return under_prefix


async def open_all_then_send(url, count):
    """
    Open ``count`` sockets at ``url`` + ``/N``; once all are open, each sends
    ``message N`` and waits for one answer. Return the answers, in order.
    """
    from websockets.asyncio.client import connect
    opened, go = [], asyncio.Event()

    async def one(number):
        async with connect("%s/%d" % (url, number), open_timeout=60) as socket:
            opened.append(number)
            await go.wait()
            await socket.send("message %d" % number)
            return await asyncio.wait_for(socket.recv(), 60)

    sockets = [asyncio.ensure_future(one(number)) for number in range(count)]
    while len(opened) < count and not any(socket.done() for socket in sockets):
        await asyncio.sleep(0.05)
    go.set()
    return await asyncio.gather(*sockets)
