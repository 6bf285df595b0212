"""
The coroutines that tests/test_redis_async.py runs, kept apart so that
module still compiles on Python 2 (where it skips). Each is run on a new
event loop of its own.
"""
from __future__ import absolute_import

import asyncio


async def send_at_once(layer, sends):
    """``send_async`` every ``(channel, message)`` together, in that order; what each returned or raised."""
    # Tasks made one by one start in that order (Python 3.6's gather orders coroutines as a set does).
    sending = [asyncio.ensure_future(layer.send_async(channel, message)) for channel, message in sends]
    return await asyncio.gather(*sending, return_exceptions=True)


async def cancel_the_second_send(layer, channel):
    """
    Send ``{"n": 1}``; while it is on its way, start sending ``{"n": 2}`` and
    cancel that one in the queue; then send ``{"n": 3}``. "cancelled" if the
    second send was cancelled.
    """
    first = asyncio.ensure_future(layer.send_async(channel, {"n": 1}))
    # The first goes out and its reply is awaited...
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # ...while the second waits for its turn, and is cancelled there.
    second = asyncio.ensure_future(layer.send_async(channel, {"n": 2}))
    await asyncio.sleep(0)
    second.cancel()
    await first
    try:
        await second
    except asyncio.CancelledError:
        outcome = "cancelled"
    else:
        outcome = "sent"
    await layer.send_async(channel, {"n": 3})
    return outcome


async def cancel_mid_round_trip(layer, warm, channel, count):
    """
    Receive once on ``warm`` (so a connection is open), then cancel a
    receive on ``channel`` once it has asked Redis; the ``n`` of the next
    ``count`` receives there.
    """
    await layer.receive_async([warm])
    receiving = asyncio.ensure_future(layer.receive_async([channel]))
    await asyncio.sleep(0)
    receiving.cancel()
    try:
        await receiving
    except asyncio.CancelledError:
        pass
    # The reply still arrives, and what it took is kept.
    await asyncio.sleep(0.2)
    return [(await layer.receive_async([channel]))[1]["n"] for _ in range(count)]


async def cancel_while_waiting(layer, warm, channel):
    """
    Receive once on ``warm``; cancel a receive that waits on the empty
    ``channel``, then send ``{"n": 1}`` and ``{"n": 2}`` there; the ``n``
    of the next two receives there.
    """
    await layer.receive_async([warm])
    receiving = asyncio.ensure_future(layer.receive_async([channel]))
    # It waits in Redis (a BLMOVE) for the empty channel...
    await asyncio.sleep(0.2)
    receiving.cancel()
    # ...which takes the next messages even though nobody awaits it now.
    layer.send(channel + "x", {"n": 1})
    layer.send(channel + "x", {"n": 2})
    await asyncio.sleep(0.2)
    return [(await layer.receive_async([channel]))[1]["n"] for _ in range(2)]


async def receive_all_at_once(layer, channels, send):
    """A receive on each of ``channels``, all waiting before ``send()`` is called; what each returned."""
    receives = [asyncio.ensure_future(layer.receive_async([channel])) for channel in channels]
    await asyncio.sleep(0.3)
    send()
    return await asyncio.gather(*receives)
