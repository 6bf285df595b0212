"""
A wake-up call for one sleeping thread, lighter than ``threading.Condition``.

The channel layer puts a thread to sleep for every blocking receive. A
Condition builds a new lock and runs a page of Python for each wait and
each notify; a Wakeup is one lock, kept locked until it is rung, so
waiting is one acquire and ringing one release, and neither needs any
other lock held.
"""
import threading
import time

import six


class Wakeup(object):
    """
    One ring for one sleeper: :meth:`wait` sleeps until another thread
    calls :meth:`ring`, or returns at once if it was rung before. Its owner
    rings it at most once; after that every wait returns at once.
    """

    __slots__ = ("_bell",)

    def __init__(self):
        self._bell = threading.Lock()
        self._bell.acquire()

    def ring(self):
        """Wake the thread in :meth:`wait`, or make its wait return at once; True."""
        self._bell.release()
        return True

    def wait(self, timeout):
        """Sleep until rung or ``timeout`` seconds pass (it may end earlier, unrung); True if rung."""
        if _acquire(self._bell, timeout):
            # Rung: leave it rung, so a later wait returns at once too.
            self._bell.release()
            return True
        return False


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
