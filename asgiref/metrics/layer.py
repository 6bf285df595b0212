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
from .collectors import CHANNEL_FULL, RECEIVED, SENT


def instrument_layer(layer, metrics):
    """
    Count ``layer``'s sends, receives, ChannelFull and failures in
    ``metrics`` and time each call; group sends are counted from the
    layer's ``group_sends`` report, which says which members missed one.
    Returns ``layer``.
    """
    counter = _Counter(layer, metrics)
    for name in ("send", "send_group", "group_add", "group_discard", "flush"):
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
    """The wrappers of one layer's methods, and what they count."""

    def __init__(self, layer, metrics):
        self.observe = metrics.layer_call_duration.observe
        self.count = metrics.layer_messages.add
        self.errors = metrics.layer_errors.add
        # Errors the caller made or expects, not the layer failing.
        self.expected = (layer.ChannelFull, layer.MessageTooLarge, TypeError, ValueError)
        self.channel_full = layer.ChannelFull

    def failed(self, call, error):
        """Count what a call raised: ChannelFull, or a failure of the layer."""
        if isinstance(error, self.channel_full):
            self.count(CHANNEL_FULL)
        elif not isinstance(error, self.expected):
            self.errors(call)

    def blocking(self, call, method):
        observe, count, failed = self.observe, self.count, self.failed
        counts_sent = call == "send"

        @functools.wraps(method)
        def instrumented(*args, **kwargs):
            started = clock()
            try:
                result = method(*args, **kwargs)
            except Exception:
                failed(call, sys.exc_info()[1])
                raise
            finally:
                observe(call, clock() - started)
            if counts_sent:
                count(SENT)
            return result
        return instrumented

    def receive(self, method):
        observe, count, failed = self.observe, self.count, self.failed

        @functools.wraps(method)
        def receive(channels, block=False):
            started = clock()
            try:
                channel, message = method(channels, block)
            except Exception:
                failed("receive", sys.exc_info()[1])
                raise
            finally:
                observe("receive_wait" if block else "receive", clock() - started)
            if channel is not None:
                count(RECEIVED)
            return channel, message
        return receive

    def group_sent(self, group, stored, dropped):
        """The layer's report of a group send."""
        if stored:
            self.count(SENT, stored)
        if dropped:
            self.count(CHANNEL_FULL, len(dropped))
