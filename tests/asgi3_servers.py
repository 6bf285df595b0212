"""What the tests of the ASGI 3 front share: uvicorn on a free port in a thread of this process."""
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
