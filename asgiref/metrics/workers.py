"""
Busy and idle worker threads: :func:`instrument_workers` wraps the
``handle`` of a thread pool (``AsgiToWsgiAdapter``, ``Consumers``) on that
instance, which its threads call for each request or message they take.
"""
from __future__ import absolute_import, unicode_literals

import functools
import threading


def instrument_workers(pools, metrics):
    """
    ``metrics.worker_threads_busy``: the threads of ``pools`` in ``handle``
    now; ``worker_threads_idle``: those alive less the busy ones. Both are
    read at each scrape.
    """
    busy = _Busy()
    for pool in pools:
        pool.handle = busy.wrapped(pool.handle)

    def idle():
        alive = sum(1 for pool in pools for thread in pool.threads if thread.is_alive())
        return max(0, alive - busy.count)
    metrics.worker_threads_busy.set_function(lambda: busy.count)
    metrics.worker_threads_idle.set_function(idle)


class _Busy(object):
    """How many threads are in a wrapped ``handle`` now."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def wrapped(self, handle):
        @functools.wraps(handle)
        def handling(*args):
            with self._lock:
                self.count += 1
            try:
                return handle(*args)
            finally:
                with self._lock:
                    self.count -= 1
        return handling
