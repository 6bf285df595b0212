"""
``receive_async`` of the in-memory layer (Python 3 only: the layer's module
imports this one only there).
"""
import asyncio
import heapq
import itertools
import weakref

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
        _timeouts(loop).add(loop, self.receive_timeout, waiter, self._time_up)
        try:
            return await waiter.future
        except BaseException:
            # Cancelled (or the loop is closing): a message handed to it goes to another receiver.
            self._give_up(waiter)
            raise

    def _time_up(self, waiter):
        found = self._stop_waiting(waiter)
        _settle(waiter.future, found or (None, None))


class _LoopWaiter(object):
    """A receive_async waiting on its future, which a ring sets through the loop."""

    __slots__ = ("names", "registered", "found", "sent", "loop", "future", "__weakref__")

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


class LoopTimeouts(object):
    """
    The timeouts of the waits on one event loop, on the loop's timers: one
    while every wait has the same ``receive_timeout``. A wait that ends
    first has no timer to cancel: a woken receive resumes with nothing to
    do but return its message, and a wait costs no timer of its own. The
    entry of a wait that ended stays until the waits before it have ended
    too, at most ``receive_timeout`` seconds. Used from the loop's thread
    only. It holds no reference to the loop: it goes with its loop.
    """

    def __init__(self):
        # (deadline, order, weak reference to the waiter, expire), soonest first.
        self.heap = []
        self.order = itertools.count()
        # The deadlines of the timers armed on the loop, soonest first.
        self.armed = []

    def add(self, loop, seconds, waiter, expire):
        """Call ``expire(waiter)`` in ``seconds`` on ``loop``, unless ``waiter`` is gone by then."""
        heap = self.heap
        # Waits that ended leave their entries; those that came first go at once.
        while heap and heap[0][2]() is None:
            heapq.heappop(heap)
        deadline = loop.time() + seconds
        heapq.heappush(heap, (deadline, next(self.order), weakref.ref(waiter), expire))
        if not self.armed or deadline < self.armed[0]:
            self._arm(loop, deadline)

    def _arm(self, loop, deadline):
        heapq.heappush(self.armed, deadline)
        loop.call_at(deadline, self._fire, loop, deadline)

    def _fire(self, loop, deadline):
        # Everything due by the deadline the loop fired for, as a timer of its own would have.
        self.armed.remove(deadline)
        heapq.heapify(self.armed)
        heap = self.heap
        due = max(deadline, loop.time())
        try:
            while heap and heap[0][0] <= due:
                _, _, reference, expire = heapq.heappop(heap)
                waiter = reference()
                if waiter is not None:
                    expire(waiter)
        finally:
            # Even after a failing expire: the rest are then due at once.
            while heap and heap[0][2]() is None:
                heapq.heappop(heap)
            if heap and (not self.armed or heap[0][0] < self.armed[0]):
                self._arm(loop, heap[0][0])


_loop_timeouts = weakref.WeakKeyDictionary()


def _timeouts(loop):
    """The LoopTimeouts of ``loop``, made on first use."""
    timeouts = _loop_timeouts.get(loop)
    if timeouts is None:
        timeouts = _loop_timeouts.setdefault(loop, LoopTimeouts())
    return timeouts
