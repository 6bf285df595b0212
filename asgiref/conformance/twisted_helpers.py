"""
Driving Twisted's reactor from code that is not Twisted, for the ``twisted``
conformance tests. :func:`in_reactor` runs the process's global reactor in
the calling thread only until the call's Deferred fires, then stops it
(``crash``, as trial does between its tests, so it can run again) and undoes
what the call left in it: timed calls, connections and the reactor's thread
pool. A reactor already running in another thread (see
:func:`running_reactor`) is called into instead, and left running.
"""
from __future__ import unicode_literals

import threading

from six.moves import queue

_starting = threading.Lock()


def in_reactor(function, *args, **keywords):
    """
    Run ``function(*args)`` in the reactor's thread and wait (``timeout``
    keyword, 10 seconds) for the Deferred it returns: its result, or its
    failure raised here.
    """
    from twisted.internet import reactor
    from twisted.python import threadable

    timeout = keywords.pop("timeout", 10)
    if reactor.running:
        if threadable.isInIOThread():
            raise RuntimeError("in_reactor() waits for the reactor, so it cannot be called from the reactor's thread")
        return _called_into(reactor, function, args, timeout)
    return _run_until_fired(reactor, function, args, timeout)


def _run_until_fired(reactor, function, args, timeout):
    from twisted.internet import defer

    before = _State(reactor)
    outcomes = []

    def call():
        deferred = defer.maybeDeferred(function, *args)
        deferred.addBoth(finish)

    def finish(outcome):
        if not outcomes:
            outcomes.append(outcome)
            reactor.crash()

    reactor.callWhenRunning(call)
    time_up = reactor.callLater(timeout, finish, _TimedOut())
    try:
        reactor.run(installSignalHandlers=False)
    finally:
        if time_up.active():
            time_up.cancel()
        before.restore(reactor)
    return _result(outcomes[0] if outcomes else _TimedOut(), function, timeout)


class _State(object):
    """What a reactor holds now: restore() takes away whatever was added since."""

    def __init__(self, reactor):
        self.calls = set(reactor.getDelayedCalls())
        self.readers = set(reactor.getReaders())
        self.writers = set(reactor.getWriters())
        self.thread_pool = getattr(reactor, "threadpool", None)

    def restore(self, reactor):
        for call in reactor.getDelayedCalls():
            if call not in self.calls and call.active():
                call.cancel()
        for reader in set(reactor.getReaders()) - self.readers:
            reactor.removeReader(reader)
            _close(reader)
        for writer in set(reactor.getWriters()) - self.writers:
            reactor.removeWriter(writer)
            _close(writer)
        if self.thread_pool is None and getattr(reactor, "threadpool", None) is not None:
            # As trial does after its tests: the pool's threads end, and the
            # next deferToThread starts a new one.
            reactor._stopThreadPool()


def _close(selectable):
    connection_lost = getattr(selectable, "connectionLost", None)
    if connection_lost is None:
        return
    from twisted.internet import error
    from twisted.python.failure import Failure
    try:
        connection_lost(Failure(error.ConnectionDone("the conformance test is over")))
    except Exception:
        # Closing is best effort: the reactor no longer watches it either way.
        pass


def _called_into(reactor, function, args, timeout):
    from twisted.internet import defer

    outcomes = queue.Queue()

    def call():
        deferred = defer.maybeDeferred(function, *args)
        deferred.addBoth(outcomes.put)

    reactor.callFromThread(call)
    try:
        outcome = outcomes.get(timeout=timeout)
    except queue.Empty:
        outcome = _TimedOut()
    return _result(outcome, function, timeout)


class _TimedOut(object):
    """The outcome of a Deferred that did not fire in time."""


def _result(outcome, function, timeout):
    from twisted.python.failure import Failure

    if isinstance(outcome, _TimedOut):
        raise AssertionError("%r gave no result within %s seconds" % (function, timeout))
    if isinstance(outcome, Failure):
        outcome.raiseException()
    return outcome


def running_reactor():
    """
    The global reactor, running in a daemon thread of its own from now on
    (for benchmarks and long-lived callers; a reactor that has stopped for
    good cannot run again): RuntimeError if it cannot run here.
    """
    from twisted.internet import reactor
    from twisted.python import threadable

    with _starting:
        if not reactor.running:
            started = threading.Event()
            reactor.callWhenRunning(started.set)
            thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False})
            thread.daemon = True
            thread.start()
            if not started.wait(10):
                raise RuntimeError("the Twisted reactor did not start (a reactor that ran once cannot run again)")
    if threadable.isInIOThread():
        raise RuntimeError("in_reactor() waits for the reactor, so it cannot be called from the reactor's thread")
    return reactor


def cancel_after_send(layer, channel, message):
    """
    In the reactor: start ``receive_twisted([channel])``, let it wait, then
    send ``message`` to ``channel`` and cancel the Deferred in the same call,
    so the send's wake-up is still on its way. A list of what the cancelled
    Deferred fired with: empty if the cancel came first, as it should.
    """
    from twisted.internet import defer, reactor, task

    def start():
        returned = []
        receiving = layer.receive_twisted([channel])
        receiving.addCallbacks(returned.append, lambda failure: failure.trap(defer.CancelledError))

        def send_and_cancel():
            layer.send(channel, message)
            receiving.cancel()
            return returned
        return task.deferLater(reactor, 0.2, send_and_cancel)
    return in_reactor(start)
