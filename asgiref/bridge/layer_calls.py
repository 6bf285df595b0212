"""
The channel-layer calls both halves of the bridge make the same way: a
blocking receive that never spins, a send that waits out ChannelFull, and a
drain of what nobody will read; and what every loop that calls the layer
does when the layer fails (Redis away): back off, and say so once.
"""
from __future__ import unicode_literals

import logging
import sys
import threading
import time
from contextlib import contextmanager

import six

#: A clock that does not jump with the wall clock (Python 2 has none).
clock = getattr(time, "monotonic", time.time)

# A receive(block=True) that comes back empty sooner than this is from a
# layer that does not block (asgiref 1.1's ignored block); pause this long.
_IDLE_PAUSE = 0.01

# ChannelFull retries start at the first delay and double up to the second.
_BACKOFF = (0.0001, 0.05)

#: After a layer error a loop waits the first delay, doubling up to the
#: second (50 ms x 2^5): a layer that comes back is noticed within 1.6 s.
OUTAGE_BACKOFF = (0.05, 1.6)

#: A failing layer is said to work again once a call works this many
#: seconds after the last failed one: a layer that fails now and then (one
#: server of several away) writes one pair of lines, not a pair per call.
OUTAGE_SETTLE = 1.0


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


def receive_until(channel_layer, channels, stopping, outage):
    """
    Yield what blocking receives on ``channels`` return, ``(None, None)``
    included, until ``stopping`` (a ``threading.Event``) is set: a worker
    thread's loop. A layer that fails is waited out with ``outage``'s
    backoff (see :class:`Outage`), never raised.
    """
    backoff = outage.backoff()
    while not stopping.is_set():
        try:
            received = receive_blocking(channel_layer, channels)
        except Exception as error:
            stopping.wait(backoff.failed(error))
            continue
        backoff.succeeded()
        yield received


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


class LayerFailed(Exception):
    """
    A channel-layer call raised something other than the errors ASGI gives
    its callers to handle (ChannelFull, MessageTooLarge): the layer failed.
    ``error`` is what it raised.
    """

    def __init__(self, error):
        Exception.__init__(self, one_line(error))
        self.error = error


@contextmanager
def layer_call(channel_layer):
    """Around calls to ``channel_layer``: any Exception but its ChannelFull and MessageTooLarge raises LayerFailed."""
    try:
        yield
    except (channel_layer.ChannelFull, channel_layer.MessageTooLarge):
        raise
    except LayerFailed:
        raise
    except Exception as error:
        six.raise_from(LayerFailed(error), error)


def failed_under(channel_layer, error):
    """
    Whether ``error``, raised by code that calls ``channel_layer`` (a
    consumer, an application), is the layer failing under it: it came out of
    a method of the layer (a frame of its traceback has the layer as
    ``self``), and is neither an ASGI error (ChannelFull, MessageTooLarge) nor
    the layer refusing its arguments (TypeError, ValueError), which are the
    caller's to fix.
    """
    if isinstance(error, (channel_layer.ChannelFull, channel_layer.MessageTooLarge, TypeError, ValueError)):
        return False
    traceback = getattr(error, "__traceback__", None)
    if traceback is None and sys.exc_info()[1] is error:
        traceback = sys.exc_info()[2]
    while traceback is not None:
        if traceback.tb_frame.f_locals.get("self") is channel_layer:
            return True
        traceback = traceback.tb_next
    return False


def one_line(error):
    """``error`` as ``Type: message`` on one line, for a log line without its traceback."""
    if isinstance(error, LayerFailed):
        error = error.error
    try:
        text = six.text_type(error)
    except UnicodeError:
        text = repr(error)
    return " ".join(("%s: %s" % (type(error).__name__, text)).split())


class Outage(object):
    """
    What one part of a process (a worker's threads, a front) logs about its
    channel layer failing: one line when its calls start failing (the error
    on one line; its traceback only when ``logger`` is at DEBUG), and one when
    a call works again, ``settle`` seconds or more after the last failure.
    Safe from any thread; :meth:`backoff` gives each loop its waits.
    """

    def __init__(self, logger, who, settle=OUTAGE_SETTLE):
        self.logger = logger
        self.who = who
        self.settle = settle
        self._lock = threading.Lock()
        # While failing: when the first and the last failure were, and how many.
        self._first = self._last = None
        self._failures = 0

    @property
    def failing(self):
        """Whether the last calls failed (no recovery said yet)."""
        return self._first is not None

    def failed(self, error):
        """Note a failed layer call (``error``: what it raised); the first of an outage is logged."""
        with self._lock:
            now = clock()
            self._last = now
            self._failures += 1
            if self._first is not None:
                return
            self._first = now
        exc_info = None
        if self.logger.isEnabledFor(logging.DEBUG):
            exc_info = sys.exc_info() if sys.exc_info()[1] is error else (
                type(error), error, getattr(error, "__traceback__", None))
        self.logger.error("%s: the channel layer fails: %s", self.who, one_line(error), exc_info=exc_info)

    def succeeded(self):
        """Note a layer call that worked; the end of an outage is logged."""
        if self._first is None:
            # The common case takes no lock.
            return
        with self._lock:
            if self._first is None or clock() - self._last < self.settle:
                return
            lasted, failures = self._last - self._first, self._failures
            self._first = self._last = None
            self._failures = 0
        self.logger.warning("%s: the channel layer works again, after %d failed calls over %.1fs",
                            self.who, failures, lasted)

    def backoff(self):
        """A :class:`Backoff` for one loop (one thread, or one task), reporting here."""
        return Backoff(self)


class Backoff(object):
    """
    One loop's waits after failed layer calls: 50 ms, doubling up to 1.6 s;
    a call that works starts them over. Each failure and success is told to
    ``outage``, which logs the outage once.
    """

    def __init__(self, outage, first=OUTAGE_BACKOFF[0], longest=OUTAGE_BACKOFF[1]):
        self.outage = outage
        self.first = first
        self.longest = longest
        self._delay = first

    def failed(self, error):
        """Note a failed call; return the seconds to wait before the next (an asyncio loop sleeps them itself)."""
        self.outage.failed(error)
        delay = self._delay
        self._delay = min(delay * 2, self.longest)
        return delay

    def succeeded(self):
        """Note a call that worked."""
        self._delay = self.first
        self.outage.succeeded()
