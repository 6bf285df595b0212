"""
``receive_async`` of the in-memory layer (Python 3 only: the layer's module
imports this one only there).
"""
import asyncio

_running_loop = getattr(asyncio, "get_running_loop", asyncio.get_event_loop)


class AsyncReceive(object):
    """The ``async`` extension, for a layer with the in-memory layer's waiter internals."""

    async def receive_async(self, channels):
        """
        What ``receive`` returns: the message that has waited longest on
        ``channels``, or ``(None, None)`` after ``receive_timeout`` seconds.
        A send from any thread wakes the waiting event loop (any asyncio
        loop, uvloop too). Cancelled, it has taken no message.
        """
        loop = _running_loop()
        waiter = _LoopWaiter(self._receive_names(channels), loop)
        found = self._take_or_register(waiter)
        if found is not None:
            return found
        timer = loop.call_later(self.receive_timeout, self._time_up, waiter)
        try:
            return await waiter.future
        except BaseException:
            # Cancelled (or the loop is closing): a message handed to it goes to another receiver.
            self._give_up(waiter)
            raise
        finally:
            timer.cancel()

    def _time_up(self, waiter):
        found = self._stop_waiting(waiter)
        _settle(waiter.future, found or (None, None))


class _LoopWaiter(object):
    """A receive_async waiting on its future, which a ring sets through the loop."""

    __slots__ = ("names", "registered", "found", "sent", "loop", "future")

    def __init__(self, names, loop):
        self.names = frozenset(names)
        self.registered = False
        self.found = None
        self.sent = None
        self.loop = loop
        self.future = loop.create_future()

    def ring(self):
        # Called by a send, in any thread, once it has handed over ``found``.
        try:
            self.loop.call_soon_threadsafe(_settle, self.future, self.found)
        except RuntimeError:
            # The loop is closed: nothing will run this wait again.
            return False
        return True


def _settle(future, found):
    # Timed out or cancelled first: that path looked after ``found``.
    if not future.done():
        future.set_result(found)
