"""
Busy and idle worker threads: :func:`instrument_workers` reads the count a
thread pool keeps itself (``AsgiToWsgiAdapter.busy_threads``) at each
scrape, and counts those of any other pool (``Consumers``) by wrapping its
``handle`` on that instance, which its threads call for each message.
"""
from __future__ import absolute_import, unicode_literals

import functools

from .tallies import Level


def instrument_workers(pools, metrics):
    """
    ``metrics.worker_threads_busy``: the threads of ``pools`` serving a
    request or message now (a pool with ``busy_threads`` costs nothing per
    request); ``metrics.worker_threads_alive``: those alive, so the idle
    ones are those alive less the busy ones, read at each scrape.
    """
    counting, wrapped = [], Level()
    for pool in pools:
        if hasattr(pool, "busy_threads"):
            counting.append(pool)
        else:
            pool.handle = _busy_while(pool.handle, wrapped.add)
    metrics.worker_threads_busy = lambda: wrapped.value + sum(pool.busy_threads for pool in counting)
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
