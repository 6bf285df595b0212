"""
Calls of ``ChannelLayerApplication`` as an ASGI 3 server makes them, for
the metrics tests: Python 3.9+ only, imported by those tests only there.
"""
import asyncio


def request(front, path="/", leave_after=None, look=None, headers=()):
    """
    The events ``front`` sends for a GET of ``path`` with ``headers``; with
    ``leave_after``, the client leaves that many seconds after sending it;
    with ``look``, ``(seconds, function)``, ``function()`` is called that
    many seconds into the request.
    """
    sent = []
    events = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if events:
            return events.pop(0)
        if leave_after is None:
            await asyncio.Event().wait()
        await asyncio.sleep(leave_after)
        return {"type": "http.disconnect"}

    async def send(event):
        sent.append(event)

    async def both():
        if look is not None:
            asyncio.get_running_loop().call_later(*look)
        await front({"type": "http", "method": "GET", "path": path, "headers": list(headers)}, receive, send)
    asyncio.run(both())
    return sent


def start_lifespan(front, loop):
    """
    Start the lifespan of ``front`` on ``loop``, running in another thread;
    returns a function that shuts it down and waits until it has.
    """
    # Made on the loop: before Python 3.10 an Event belongs to the loop current where it is made.
    shutdown = []

    async def receive():
        if not shutdown:
            shutdown.append(asyncio.Event())
            return {"type": "lifespan.startup"}
        await shutdown[0].wait()
        return {"type": "lifespan.shutdown"}

    async def send(event):
        pass
    running = asyncio.run_coroutine_threadsafe(front({"type": "lifespan"}, receive, send), loop)

    def stop():
        loop.call_soon_threadsafe(lambda: shutdown[0].set())
        running.result(10)
    return stop
