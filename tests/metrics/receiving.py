"""asyncio receives for the metrics tests (Python 3 only)."""
import asyncio


def receive_then_cancel_one(layer, channels, empty_channels):
    """What ``layer.receive_async(channels)`` returns; then a receive_async on ``empty_channels``, cancelled."""
    async def calls():
        found = await layer.receive_async(channels)
        await _cancelled(layer, empty_channels)
        return found
    return _run(calls())


def cancel_one(layer, empty_channels):
    """A receive_async on ``empty_channels``, cancelled while it waits."""
    _run(_cancelled(layer, empty_channels))


async def _cancelled(layer, empty_channels):
    waiting = asyncio.ensure_future(layer.receive_async(empty_channels))
    await asyncio.sleep(0.01)
    waiting.cancel()
    try:
        await waiting
    except asyncio.CancelledError:
        return
    raise AssertionError("the cancelled receive_async returned")


def _run(coroutine):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()
