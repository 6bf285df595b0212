"""
Busy and idle worker threads: :func:`instrument_workers` wraps the
``handle`` of a thread pool (``AsgiToWsgiAdapter``, ``Consumers``) on that
instance, which its threads call for each request or message they take.
"""
from __future__ import absolute_import, unicode_literals

import functools


def instrument_workers(pools, metrics):
    """
    ``metrics.worker_threads_busy``: the threads of ``pools`` in ``handle``
    now; the idle ones are those alive less the busy ones, read at each
    scrape.
    """
    busy = metrics.worker_threads_busy.add
    for pool in pools:
        pool.handle = _busy_while(pool.handle, busy)
    metrics.worker_threads_alive = lambda: sum(
        1 for pool in pools for thread in pool.threads if thread.is_alive())


def _busy_while(handle, busy):
    @functools.wraps(handle)
    def handling(*args):
        busy(1)
        try:
            return handle(*args)
        finally:
            busy(-1)
    return handling
