"""
Driving Twisted's reactor from code that is not Twisted, for the ``twisted``
conformance tests: the process's global reactor runs in a daemon thread
(started on first use, left running until the process exits, as a reactor
can run only once per process) and :func:`in_reactor` calls into it.
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
    from twisted.internet import defer
    from twisted.python.failure import Failure

    timeout = keywords.pop("timeout", 10)
    reactor = running_reactor()
    outcomes = queue.Queue()

    def call():
        deferred = defer.maybeDeferred(function, *args)
        deferred.addBoth(outcomes.put)

    reactor.callFromThread(call)
    try:
        outcome = outcomes.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("%r gave no result within %s seconds" % (function, timeout))
    if isinstance(outcome, Failure):
        outcome.raiseException()
    return outcome


def running_reactor():
    """The global reactor, running in a thread of its own; RuntimeError if it cannot run here."""
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
