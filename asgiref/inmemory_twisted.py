"""
``receive_twisted`` of the in-memory layer: a Deferred that a send from any
thread fires in the reactor's thread. Twisted is imported on first use,
never by importing the layer.
"""
from __future__ import unicode_literals

import six


def twisted_imports():
    """True if Twisted's Deferred can be imported here."""
    try:
        import twisted.internet.defer  # noqa: F401
    except ImportError:
        return False
    return True


class TwistedReceive(object):
    """The ``twisted`` extension, for a layer with the in-memory layer's waiter internals."""

    def receive_twisted(self, channels):
        """
        A Deferred that fires with what ``receive`` returns: the message
        that has waited longest on ``channels``, or ``(None, None)`` after
        ``receive_timeout`` seconds. A send from any thread fires it, in
        the reactor's thread; call this from that thread, as every Twisted
        API. Cancelling the Deferred takes no message.
        """
        try:
            from twisted.internet import defer, reactor
        except ImportError as error:
            six.raise_from(ImportError(
                'receive_twisted() needs Twisted (pip install ".[twisted]" in a checkout): %s' % error), None)

        waiter = _ReactorWaiter(self, self._receive_names(channels), reactor)
        waiter.deferred = defer.Deferred(waiter.cancel)
        found = self._take_or_register(waiter)
        if found is not None:
            return defer.succeed(found)
        waiter.timer = reactor.callLater(self.receive_timeout, waiter.time_up)
        return waiter.deferred


class _ReactorWaiter(object):
    """A receive_twisted waiting for a ring, which reaches it through the reactor."""

    __slots__ = ("layer", "names", "registered", "found", "sent", "reactor", "deferred", "timer")

    def __init__(self, layer, names, reactor):
        self.layer = layer
        self.names = frozenset(names)
        self.registered = False
        self.found = None
        self.sent = None
        self.reactor = reactor
        self.deferred = None
        self.timer = None

    def ring(self):
        # Called by a send, in any thread, once it has handed over ``found``.
        self.reactor.callFromThread(self.rung)
        return True

    def rung(self):
        """In the reactor: fire with the message handed over."""
        if self.deferred.called:
            # Timed out or cancelled in the meantime; both looked after the message.
            return
        # The receiver first, the timer after: the reactor runs neither
        # the timer nor anything else until this returns.
        self.deferred.callback(self.found)
        self.timer.cancel()

    def time_up(self):
        found = self.layer._stop_waiting(self)
        self.deferred.callback(found or (None, None))

    def cancel(self, deferred):
        # Twisted then fails the Deferred with CancelledError.
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.layer._give_up(self)
