"""
The channel-layer calls both halves of the bridge make the same way: a
blocking receive that never spins, a send that waits out ChannelFull, and a
drain of what nobody will read.
"""
from __future__ import unicode_literals

import time

#: A clock that does not jump with the wall clock (Python 2 has none).
clock = getattr(time, "monotonic", time.time)

# A receive(block=True) that comes back empty sooner than this is from a
# layer that does not block (asgiref 1.1's ignored block); pause this long.
_IDLE_PAUSE = 0.01

# ChannelFull retries start at the first delay and double up to the second.
_BACKOFF = (0.0001, 0.05)


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


class Patience(object):
    """
    The waits between tries at a full channel: sleeps that start at 0.1 ms and
    double up to ``longest`` (50 ms), for up to ``timeout`` seconds from the
    first wait.
    """

    def __init__(self, timeout, longest=_BACKOFF[1]):
        self.timeout = timeout
        self.longest = longest
        self._deadline = None
        self._delay = _BACKOFF[0]

    def wait(self):
        """Sleep before the next try; False, at once, if that would end past the timeout."""
        delay = self.next_delay()
        if delay is None:
            return False
        time.sleep(delay)
        return True

    def next_delay(self):
        """How long to wait before the next try (an asyncio caller sleeps it itself); None: give up."""
        if self._deadline is None:
            self._deadline = clock() + self.timeout
        delay = self._delay
        if clock() + delay > self._deadline:
            return None
        self._delay = min(delay * 2, self.longest)
        return delay


def send_patiently(channel_layer, channel, message, timeout):
    """Send, retrying with backoff while the channel is full, for up to ``timeout`` seconds."""
    patience = Patience(timeout)
    while True:
        try:
            return channel_layer.send(channel, message)
        except channel_layer.ChannelFull:
            if not patience.wait():
                raise


def drain(channel_layer, channel):
    """Take and drop every message waiting on ``channel``, without waiting for more; return how many."""
    count = 0
    while channel_layer.receive([channel], block=False)[0] is not None:
        count += 1
    return count
