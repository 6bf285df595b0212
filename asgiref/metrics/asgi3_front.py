"""
The HTTP and WebSocket metrics of the ASGI 3 front (uvicorn): ASGI 3
middleware around ``ChannelLayerApplication``, which also keeps the
event loop's heartbeat for ``/livez``. Python 3.9+ only.
"""
import asyncio

from ..bridge.layer_calls import clock


class Asgi3FrontMetrics(object):
    """
    ASGI 3 middleware counting in ``metrics`` each HTTP request (in flight
    while the application runs, then counted by status, ``500`` if it
    started no response, and timed) and each accepted WebSocket while it is
    open. :attr:`loop` is the event loop it runs on, once it has run.
    """

    def __init__(self, application, metrics):
        self.application = application
        self.metrics = metrics
        #: The server's event loop, seen at its first call (the lifespan startup).
        self.loop = None
        self._started = metrics.http_requests_started.add
        self._answered = metrics.http_request_duration.observe

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self._not_http(scope, receive, send)
        began = clock()
        # The status as the number the application sent (the collector writes it out).
        status = [500]

        async def recording_send(event):
            if event["type"] == "http.response.start":
                status[0] = event["status"]
            await send(event)

        self._started()
        try:
            await self.application(scope, receive, recording_send)
        finally:
            self._answered(status[0], clock() - began)

    async def _not_http(self, scope, receive, send):
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        return await self.application(scope, receive, send)

    async def _websocket(self, scope, receive, send):
        connections = self.metrics.websocket_connections
        accepted = []

        async def recording_send(event):
            if event["type"] == "websocket.accept" and not accepted:
                accepted.append(True)
                connections.add(1)
            await send(event)

        try:
            await self.application(scope, receive, recording_send)
        finally:
            if accepted:
                connections.add(-1)


def loop_answers(middleware, timeout):
    """
    A liveness check of the event loop ``middleware`` runs on: None if the
    loop runs a callback within ``timeout`` seconds (or has not started
    yet), else what is wrong. Called from another thread.
    """
    import threading
    loop = middleware.loop
    if loop is None or loop.is_closed():
        return None
    ran = threading.Event()
    try:
        loop.call_soon_threadsafe(ran.set)
    except RuntimeError:
        # Closed meanwhile: the server is stopping.
        return None
    if not ran.wait(timeout):
        return "the event loop did not run a callback within %gs" % timeout
    return None
