"""
What ``/healthz`` and ``/livez`` answer: whether the layer answers, and
whether the process's loops and threads are alive.
"""
from __future__ import absolute_import, unicode_literals

from ..bridge.layer_calls import one_line

#: Seconds the layer has to answer a health check's ping.
PING_TIMEOUT = 1


class Health(object):
    """
    The readiness of a process: its ``layer`` answers a ping within
    ``timeout`` seconds. A layer without a ``ping`` (the in-memory one,
    which lives in the process) is always ready.
    """

    def __init__(self, layer, timeout=PING_TIMEOUT):
        self.layer = layer
        self.timeout = timeout

    def check(self):
        """``(True, text)`` if the layer answers, else ``(False, why not)``, on one line."""
        ping = getattr(self.layer, "ping", None)
        if not callable(ping):
            return True, "ok: the layer has no ping; it lives in this process"
        try:
            ping(timeout=self.timeout)
        except Exception as error:
            return False, "the channel layer does not answer: %s" % one_line(error)
        return True, "ok: the channel layer answers"


class Liveness(object):
    """
    The liveness of a process: each check added with :meth:`add` is a
    callable returning None while what it watches is alive, else what is
    wrong, on one line.
    """

    def __init__(self):
        self._checks = []

    def add(self, check):
        """Watch something more: ``check()`` returns None while it is alive, else what died."""
        self._checks.append(check)

    def check(self):
        """``(True, "ok")`` while every check passes, else ``(False, what is wrong)``."""
        problems = [problem for problem in (check() for check in self._checks) if problem]
        if problems:
            return False, "; ".join(problems)
        return True, "ok"


def threads_alive(pool, what):
    """A check that every thread ``pool`` (a worker thread pool) started is alive."""
    def check():
        threads = pool.threads
        dead = sum(1 for thread in threads if not thread.is_alive())
        if dead:
            return "%d of %d %s ended" % (dead, len(threads), what)
        return None
    return check
