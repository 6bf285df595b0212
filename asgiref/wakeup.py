"""
A wake-up call for one sleeping thread, lighter than ``threading.Condition``.

The channel layer and the reply dispatcher put a thread to sleep for every
blocking receive. A Condition builds a new lock and runs a page of Python
for each wait and each notify; a Wakeup is one lock, kept locked while
nobody has rung, so waiting is one acquire and ringing one release.
"""
import threading
import time

import six


class Wakeup(object):
    """
    Sleep in :meth:`wait` until another thread calls :meth:`ring`.

    Both are called with the same outer lock held. Its owner must ring a
    Wakeup at most once per wait (by taking the sleeper off its list of
    sleepers as it rings); a ring that comes after the wait timed out is
    taken back when the waiter wakes, so the next wait sleeps again.
    """

    __slots__ = ("_bell",)

    def __init__(self):
        self._bell = threading.Lock()
        self._bell.acquire()

    def ring(self):
        """Wake the thread in :meth:`wait` (or make its next wait return at once); True."""
        self._bell.release()
        return True

    def wait(self, outer_lock, timeout):
        """Release ``outer_lock``, sleep until rung or ``timeout`` seconds, take it back; True if rung."""
        outer_lock.release()
        try:
            rung = _acquire(self._bell, timeout)
        finally:
            outer_lock.acquire()
        # Rings happen under the outer lock: one that came after the timeout is here now.
        return rung or self._bell.acquire(False)


if six.PY2:
    def _acquire(lock, timeout):
        # Python 2 locks take no timeout: poll, backing off as its Condition does.
        deadline = time.time() + timeout
        delay = 0.0005
        while not lock.acquire(False):
            remaining = deadline - time.time()
            if remaining <= 0:
                return False
            delay = min(delay * 2, remaining, 0.05)
            time.sleep(delay)
        return True
else:
    def _acquire(lock, timeout):
        # A longer timed wait raises OverflowError; the callers loop to their deadline.
        return lock.acquire(True, min(max(0, timeout), threading.TIMEOUT_MAX))
