"""
The channel-layer calls both halves of the bridge make the same way: a
blocking receive that never spins, and a send that waits out ChannelFull.
"""
from __future__ import unicode_literals

import time

#: A clock that does not jump with the wall clock (Python 2 has none).
clock = getattr(time, "monotonic", time.time)

# A receive(block=True) that comes back empty sooner than this is from a
# layer that does not block (asgiref 1.1's ignored block); pause this long.
_IDLE_PAUSE = 0.01

# ChannelFull retries start at the first delay and double up to the second.
_BACKOFF = (0.001, 0.05)


def receive_blocking(channel_layer, channels):
    """
    One ``receive(block=True)``. A layer that comes back empty at once (one
    that ignores block) gets a short pause, so callers looping do not spin.
    """
    started = clock()
    channel, message = channel_layer.receive(channels, block=True)
    if channel is None and clock() - started < _IDLE_PAUSE:
        time.sleep(_IDLE_PAUSE)
    return channel, message


def send_patiently(channel_layer, channel, message, timeout):
    """Send, retrying with backoff while the channel is full, for up to ``timeout`` seconds."""
    deadline = None
    delay = _BACKOFF[0]
    while True:
        try:
            return channel_layer.send(channel, message)
        except channel_layer.ChannelFull:
            if deadline is None:
                deadline = clock() + timeout
            if clock() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, _BACKOFF[1])
