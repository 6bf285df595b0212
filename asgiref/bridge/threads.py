"""
Starting the worker threads that receive from a layer: daemon threads, so a
process that is told to stop is never held up by one still waiting; and
waiting for them to end.
"""
from __future__ import unicode_literals

import threading

from .layer_calls import clock


def start_daemon_threads(target, count, name):
    """Start ``count`` daemon threads running ``target``, named ``name 1`` and on; return them."""
    started = []
    for number in range(count):
        thread = threading.Thread(target=target, name="%s %d" % (name, number + 1))
        thread.daemon = True
        thread.start()
        started.append(thread)
    return started


def join_by(threads, deadline):
    """Wait for ``threads`` to end, until ``deadline`` (a ``clock()`` time) at most; True if every one did."""
    for thread in threads:
        thread.join(max(0, deadline - clock()))
    return not any(thread.is_alive() for thread in threads)
