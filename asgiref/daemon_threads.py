"""
Starting the worker threads that receive from a layer: daemon threads, so a
process that is told to stop is never held up by one still waiting.
"""
from __future__ import unicode_literals

import threading


def start_daemon_threads(target, count, name):
    """Start ``count`` daemon threads running ``target``, named ``name 1`` and on; return them."""
    started = []
    for number in range(count):
        thread = threading.Thread(target=target, name="%s %d" % (name, number + 1))
        thread.daemon = True
        thread.start()
        started.append(thread)
    return started
