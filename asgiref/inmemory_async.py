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
        timer = loop.call_later(self.receive_timeout, waiter.time_up)
        try:
            while True:
                await waiter.future
                # A ring that comes from now on wakes the next await.
                waiter.future = loop.create_future()
                found = self._take_when_woken(waiter, waiter.timed_out)
                if found is not None or waiter.timed_out:
                    return found or (None, None)
        except BaseException:
            # Cancelled (or the loop is closing): the message stays for another receiver.
            self._give_up(waiter)
            raise
        finally:
            timer.cancel()


class _LoopWaiter(object):
    """A receive_async waiting on its future, which a ring sets through the loop."""

    __slots__ = ("names", "registered", "loop", "future", "timed_out")

    def __init__(self, names, loop):
        self.names = frozenset(names)
        self.registered = False
        self.loop = loop
        self.future = loop.create_future()
        self.timed_out = False

    def ring(self):
        # Called by a send, in any thread, with the layer's lock held.
        try:
            self.loop.call_soon_threadsafe(_wake, self.future)
        except RuntimeError:
            # The loop is closed: nothing will run this wait again.
            return False
        return True

    def time_up(self):
        self.timed_out = True
        _wake(self.future)


def _wake(future):
    if not future.done():
        future.set_result(None)
