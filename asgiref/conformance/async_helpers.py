"""
The ``async`` conformance tests' event-loop side (Python 3 only; the suite
imports this module only for a layer that lists ``async``). Each function
runs on a new event loop of its own, never made the thread's current loop,
and closes it as ``asyncio.run`` does: tasks left running are cancelled,
asynchronous generators and the default executor shut down.
"""
import asyncio
import threading


def run(coroutine, timeout=10):
    """Run ``coroutine`` to its end on a new event loop, failing after ``timeout`` seconds."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
    finally:
        try:
            _cancel_what_is_left(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            # (Python 3.9 and later: the executor's threads end too.)
            if hasattr(loop, "shutdown_default_executor"):
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


def _cancel_what_is_left(loop):
    all_tasks = getattr(asyncio, "all_tasks", None) or asyncio.Task.all_tasks
    left = [task for task in all_tasks(loop) if not task.done()]
    for task in left:
        task.cancel()
    if left:
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))


def receive(layer, channels):
    """What ``receive_async(channels)`` returns."""
    return run(layer.receive_async(channels))


def send_each(layer, messages):
    """``send_async`` each ``(channel, message)`` of ``messages`` in turn; an error ends it."""
    async def sending():
        for channel, message in messages:
            await layer.send_async(channel, message)
    run(sending())


def receive_during(layer, channels, send):
    """
    ``receive_async(channels)`` while another thread calls ``send()`` once
    the receive is waiting: what it returns, and whether it returned before
    ``send()`` was called.
    """
    sent = threading.Event()

    def send_later():
        sent.set()
        send()

    async def waiting():
        task = asyncio.ensure_future(layer.receive_async(channels))
        await asyncio.sleep(0.2)
        early = task.done()
        threading.Thread(target=send_later).start()
        return await task, early
    return run(waiting())


def cancel_after_send(layer, channel, message):
    """
    Start ``receive_async([channel])``, let it wait, then send ``message``
    to ``channel`` and cancel the receive in the same step of the loop, so
    the send's wake-up is still on its way. A list of what the cancelled
    receive returned: empty if the cancel came first, as it should.
    """
    async def cancelling():
        task = asyncio.ensure_future(layer.receive_async([channel]))
        await asyncio.sleep(0.2)
        layer.send(channel, message)
        task.cancel()
        try:
            return [await task]
        except asyncio.CancelledError:
            return []
    return run(cancelling())
