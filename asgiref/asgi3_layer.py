"""
The channel-layer calls of the ASGI 3 front, awaited on the server's event
loop: a receive that ends by a deadline, and sends that never block the
loop (a layer's ``send_async`` where it has one; the in-memory layer's
``send`` never waits anyway). Python 3.9+ only.
"""
import asyncio

from .layer_calls import Patience, clock


async def receive_by(channel_layer, channels, deadline):
    """
    ``receive_async(channels)``, but back with ``(None, None)`` by
    ``deadline`` (a ``clock()`` time; None: the layer's own timeout).
    """
    if deadline is not None:
        remaining = deadline - clock()
        if remaining <= 0:
            return None, None
        if getattr(channel_layer, "receive_timeout", remaining) > remaining:
            # The layer would wait longer than we may: cut its wait short
            # (a cancelled receive_async has taken no message).
            try:
                return await asyncio.wait_for(channel_layer.receive_async(channels), remaining)
            except asyncio.TimeoutError:
                return None, None
    return await channel_layer.receive_async(channels)


async def send(channel_layer, channel, message):
    """``channel_layer.send(channel, message)``, awaited where the layer has ``send_async``."""
    send_async = getattr(channel_layer, "send_async", None)
    if send_async is None:
        return channel_layer.send(channel, message)
    return await send_async(channel, message)


async def send_patiently(channel_layer, channel, message, timeout):
    """
    Send, retrying with the bridge's backoff while the channel is full, for
    up to ``timeout`` seconds; then ChannelFull is raised.
    """
    patience = Patience(timeout)
    while True:
        try:
            return await send(channel_layer, channel, message)
        except channel_layer.ChannelFull:
            delay = patience.next_delay()
            if delay is None:
                raise
            await asyncio.sleep(delay)
