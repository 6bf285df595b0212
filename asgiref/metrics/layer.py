"""
Counting a layer's calls: :func:`instrument_layer` wraps the methods of one
layer instance (not its class), so the fronts and workers that call it are
measured without knowing it, and the layer stays the layer (``isinstance``
checks and tracebacks naming it as ``self`` hold).
"""
from __future__ import absolute_import, unicode_literals

import functools
import itertools
import sys

import six

from ..bridge.layer_calls import clock
from .collectors import (CANCELLED, CHANNEL_FULL, DONE, EMPTY, FAILED, FULL, LAYER_CALL_SAMPLE, REFUSED, SENT,
                         call_key)

#: ``next(count) & SAMPLE_MASK`` is 0 for one call in LAYER_CALL_SAMPLE (a
#: power of two): the test that picks the calls to time, one C call and a
#: bit test, no Python frame.
SAMPLE_MASK = LAYER_CALL_SAMPLE - 1


def instrument_layer(layer, metrics):
    """
    Count each of ``layer``'s calls in ``metrics``: every message sent and
    received, and every call that did not end well (ChannelFull, refused,
    failed, cancelled), by its name; and time one call of each method in
    ``LAYER_CALL_SAMPLE``, keyed by its name and how it ended. Group sends
    are counted from the layer's ``group_sends`` report, which says which
    members missed one. Returns ``layer``.
    """
    counter = _Counter(layer, metrics)
    if callable(getattr(layer, "send", None)):
        layer.send = counter.send(layer.send)
    for name in ("send_group", "group_add", "group_discard", "flush"):
        if callable(getattr(layer, name, None)):
            setattr(layer, name, counter.blocking(name, getattr(layer, name)))
    if callable(getattr(layer, "receive", None)):
        layer.receive = counter.receive(layer.receive)
    if not six.PY2:
        from .layer_async import asynchronous_receive, asynchronous_send
        if callable(getattr(layer, "receive_async", None)):
            layer.receive_async = asynchronous_receive(counter, layer.receive_async)
        if callable(getattr(layer, "send_async", None)):
            layer.send_async = asynchronous_send(counter, layer.send_async)
    group_sends = getattr(layer, "group_sends", None)
    if group_sends is not None:
        group_sends.observers.append(counter.group_sent)
    return layer


class _Counter(object):
    """
    The wrappers of one layer's methods. Each call is counted once: a
    message sent or received by a C call, any other ending by ``ended``;
    the calls a wrapper's own count picks (``sample_counter``) are also timed.
    """

    def __init__(self, layer, metrics):
        self.observe = metrics.layer_call_duration.observe
        self.count = metrics.layer_messages.add
        self.sent = metrics.layer_sent.counter
        self.received = metrics.layer_received.counter
        self.call_names = metrics.layer_calls
        self._ends = metrics.layer_call_ends.add
        self.channel_full = layer.ChannelFull
        # Errors the caller made, not the layer failing.
        self.refused = (layer.MessageTooLarge, TypeError, ValueError)

    def sample_counter(self, call):
        """
        The count of the calls of the wrapper of ``call`` (its name): a
        call is timed when ``next(count) & SAMPLE_MASK`` is 0, the first
        and then one in LAYER_CALL_SAMPLE.
        """
        self.call_names.add("receive" if call == "receive_wait" else call)
        return itertools.count()

    def outcome(self, error):
        """How a call that raised ``error`` ended: FULL, REFUSED, FAILED, or CANCELLED (not an Exception)."""
        if isinstance(error, self.channel_full):
            return FULL
        if isinstance(error, self.refused):
            return REFUSED
        if isinstance(error, Exception):
            return FAILED
        return CANCELLED

    def ended(self, call, outcome, started):
        """Count ``call`` (its name) ending with ``outcome``, and time it if it was ``started`` (a clock reading)."""
        key = call_key(call, outcome)
        if started is not None:
            self.observe(key, clock() - started)
        self._ends(key)

    def blocking(self, call, method):
        calls = self.sample_counter(call)
        observe, outcome, ended = self.observe, self.outcome, self.ended
        done = call_key(call, DONE)

        @functools.wraps(method)
        def instrumented(*args, **kwargs):
            started = None if next(calls) & SAMPLE_MASK else clock()
            try:
                result = method(*args, **kwargs)
            except BaseException:
                ended(call, outcome(sys.exc_info()[1]), started)
                raise
            if started is not None:
                observe(done, clock() - started)
            return result
        return instrumented

    def send(self, method):
        # The hot calls have wrappers of their own, with no argument packing.
        calls, sent = self.sample_counter("send"), self.sent
        observe, outcome, ended = self.observe, self.outcome, self.ended
        done = call_key("send", DONE)

        @functools.wraps(method)
        def send(channel, message):
            started = None if next(calls) & SAMPLE_MASK else clock()
            try:
                method(channel, message)
            except BaseException:
                ended("send", outcome(sys.exc_info()[1]), started)
                raise
            next(sent)
            if started is not None:
                observe(done, clock() - started)
        return send

    def receive(self, method):
        calls, received = self.sample_counter("receive"), self.received
        observe, outcome, ended = self.observe, self.outcome, self.ended
        # Indexed by whether the receive found nothing.
        plain = (call_key("receive", DONE), call_key("receive", EMPTY))
        waiting = (call_key("receive_wait", DONE), call_key("receive_wait", EMPTY))

        @functools.wraps(method)
        def receive(channels, block=False):
            started = None if next(calls) & SAMPLE_MASK else clock()
            try:
                channel, message = method(channels, block)
            except BaseException:
                ended("receive_wait" if block else "receive", outcome(sys.exc_info()[1]), started)
                raise
            if channel is not None:
                next(received)
            if started is not None:
                observe((waiting if block else plain)[channel is None], clock() - started)
            return channel, message
        return receive

    def group_sent(self, group, stored, dropped):
        """The layer's report of a group send."""
        if stored:
            self.count(SENT, stored)
        if dropped:
            self.count(CHANNEL_FULL, len(dropped))
