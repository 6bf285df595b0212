"""
Counting a layer's calls: :func:`instrument_layer` wraps the methods of one
layer instance (not its class), so the fronts and workers that call it are
measured without knowing it, and the layer stays the layer (``isinstance``
checks and tracebacks naming it as ``self`` hold).
"""
from __future__ import absolute_import, unicode_literals

import functools
import sys

import six

from ..bridge.layer_calls import clock
from .collectors import CANCELLED, CHANNEL_FULL, DONE, EMPTY, FAILED, FULL, REFUSED, SENT, call_key


def instrument_layer(layer, metrics):
    """
    Time each of ``layer``'s calls in ``metrics``, keyed by its name and
    how it ended (so its sends, receives, ChannelFull and failures are
    counted by the same update); group sends are counted from the layer's
    ``group_sends`` report, which says which members missed one.
    Returns ``layer``.
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
    """The wrappers of one layer's methods: each call timed once, under its name and how it ended."""

    def __init__(self, layer, metrics):
        self.observe = metrics.layer_call_duration.observe
        self.count = metrics.layer_messages.add
        self.channel_full = layer.ChannelFull
        # Errors the caller made, not the layer failing.
        self.refused = (layer.MessageTooLarge, TypeError, ValueError)

    def outcome(self, error):
        """How a call that raised ``error`` ended: FULL, REFUSED, FAILED, or CANCELLED (not an Exception)."""
        if isinstance(error, self.channel_full):
            return FULL
        if isinstance(error, self.refused):
            return REFUSED
        if isinstance(error, Exception):
            return FAILED
        return CANCELLED

    def blocking(self, call, method):
        observe, outcome = self.observe, self.outcome
        done = call_key(call, DONE)

        @functools.wraps(method)
        def instrumented(*args, **kwargs):
            started = clock()
            try:
                result = method(*args, **kwargs)
            except BaseException:
                observe(call_key(call, outcome(sys.exc_info()[1])), clock() - started)
                raise
            observe(done, clock() - started)
            return result
        return instrumented

    def send(self, method):
        # The hot call has a wrapper of its own, with no argument packing.
        observe, outcome = self.observe, self.outcome
        done = call_key("send", DONE)

        @functools.wraps(method)
        def send(channel, message):
            started = clock()
            try:
                method(channel, message)
            except BaseException:
                observe(call_key("send", outcome(sys.exc_info()[1])), clock() - started)
                raise
            observe(done, clock() - started)
        return send

    def receive(self, method):
        observe, outcome = self.observe, self.outcome
        # Indexed by whether the receive found nothing.
        plain = (call_key("receive", DONE), call_key("receive", EMPTY))
        waiting = (call_key("receive_wait", DONE), call_key("receive_wait", EMPTY))

        @functools.wraps(method)
        def receive(channels, block=False):
            started = clock()
            try:
                channel, message = method(channels, block)
            except BaseException:
                observe(call_key("receive_wait" if block else "receive", outcome(sys.exc_info()[1])),
                        clock() - started)
                raise
            observe((waiting if block else plain)[channel is None], clock() - started)
            return channel, message
        return receive

    def group_sent(self, group, stored, dropped):
        """The layer's report of a group send."""
        if stored:
            self.count(SENT, stored)
        if dropped:
            self.count(CHANNEL_FULL, len(dropped))
