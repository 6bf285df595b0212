"""Running a call in the background, for tests that need two threads at once."""
from __future__ import absolute_import

import threading
import time


def in_thread(function, *args):
    """Run ``function`` in a daemon thread; return the thread and a list that will hold its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.daemon = True
    thread.start()
    return thread, result


def numbered_messages_in_thread(layer, channel, count):
    """
    Send ``{"n": 0}`` to ``{"n": count - 1}`` to ``channel`` from a daemon
    thread, waiting while the channel is full; return the thread.
    """
    def produce():
        for n in range(count):
            while True:
                try:
                    layer.send(channel, {"n": n})
                    break
                except layer.ChannelFull:
                    time.sleep(0.001)
    return in_thread(produce)[0]
