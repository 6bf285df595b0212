"""
The base class channel layers build on: the two exceptions, the API as
stubs, name validation, per-channel capacity and the message check.
"""
from __future__ import unicode_literals

import base64
import fnmatch
import numbers
import os
import re
import sys
import threading
import time
import warnings

import six

from .messages import flat_copy, walked_copy

#: Channel and group names must be shorter than this.
NAME_LENGTH_LIMIT = 100

#: A group's dropped members are logged at most once per this many seconds.
GROUP_DROP_LOG_INTERVAL = 60

# A clock that does not jump with the wall clock (the bridge's, which imports this module).
_clock = getattr(time, "monotonic", time.time)


class ChannelFull(Exception):
    """The channel is at capacity; the message was not sent."""


class MessageTooLarge(Exception):
    """The message is larger than the layer carries; it was not sent."""


class InvalidArgument(TypeError, AssertionError):
    """
    A bad argument where asgiref 1.1 checked with ``assert``: channel names
    that are not a non-empty collection, a message that is not a dict, a
    ``new_channel`` pattern not ending in ``?``. It is a ``TypeError`` with a
    message naming the problem, and an ``AssertionError`` so that code
    written for 1.1, which caught that, still does.
    """


class BaseChannelLayer(object):
    """
    A channel layer's common ground. Subclasses implement the API methods;
    the exceptions are shared by every subclass, so ``except
    BaseChannelLayer.ChannelFull`` catches any layer's.
    """

    extensions = []

    ChannelFull = ChannelFull
    MessageTooLarge = MessageTooLarge

    # The whole naming rule of spec section 2 in one match, for send (with a
    # single-reader name's random part, any process-specific local part) and
    # for receive (a process-specific name ends at its "!").
    channel_name_regex = re.compile(r"[a-zA-Z0-9_.\-]+(?:\?[a-zA-Z0-9_.\-]+|![a-zA-Z0-9_.\-]*)?\Z")
    receive_name_regex = re.compile(r"[a-zA-Z0-9_.\-]+(?:\?[a-zA-Z0-9_.\-]+|!)?\Z")
    group_name_regex = re.compile(r"[a-zA-Z0-9_.\-]+\Z")
    #: The rule every name follows, for a layer's own messages: .format("Channel").
    invalid_name_error = "{} name must be text of ASCII letters, digits, hyphens, underscores or periods"

    def __init__(self, expiry=60, group_expiry=86400, capacity=100, channel_capacity=None):
        self.expiry = check_positive_number("expiry", expiry)
        self.group_expiry = check_positive_number("group_expiry", group_expiry)
        self.capacity = check_positive_int("capacity", capacity)
        self.channel_capacity = self.compile_capacities(channel_capacity)

    # The ASGI API.

    def send(self, channel, message):
        """Queue ``message`` on ``channel`` without blocking, or raise ChannelFull or MessageTooLarge."""
        raise NotImplementedError()

    def receive(self, channels, block=False):
        """Return ``(channel, message)`` from one of ``channels``, or ``(None, None)``."""
        raise NotImplementedError()

    def receive_many(self, channels, block=False):
        """Deprecated name of :meth:`receive`."""
        warnings.warn("receive_many() is deprecated; use receive()", DeprecationWarning, stacklevel=2)
        return self.receive(channels, block)

    def new_channel(self, pattern):
        """Return a new single-reader channel name: ``pattern`` (ending in ``?``) plus a random part."""
        raise NotImplementedError()

    # The groups extension.

    def group_add(self, group, channel):
        """Add ``channel`` to ``group``, or refresh its membership time."""
        raise NotImplementedError()

    def group_discard(self, group, channel):
        """Remove ``channel`` from ``group``; no error if it is not a member."""
        raise NotImplementedError()

    def group_channels(self, group):
        """Return the names of the channels in ``group``."""
        raise NotImplementedError()

    def send_group(self, group, message):
        """Send ``message`` to every member of ``group``; a full member misses it, nothing raises ChannelFull."""
        raise NotImplementedError()

    # The flush extension.

    def flush(self):
        """Drop every message and every group."""
        raise NotImplementedError()

    # Capacity.

    def compile_capacities(self, channel_capacity):
        """
        Turn a ``{glob or compiled regex: capacity}`` mapping into the list of
        ``(compiled regex, capacity)`` that :meth:`get_capacity` reads, in the
        mapping's order.
        """
        if channel_capacity is None:
            return []
        if not hasattr(channel_capacity, "items"):
            raise TypeError(
                "channel_capacity must be a mapping of glob or regex to capacity, not %s"
                % type(channel_capacity).__name__)
        compiled = []
        for pattern, capacity in channel_capacity.items():
            capacity = check_positive_int("channel_capacity[%r]" % (pattern,), capacity)
            if six.PY2 and isinstance(pattern, bytes):
                # A settings file without unicode_literals: its globs are native strings.
                pattern = pattern.decode("ascii")
            if isinstance(pattern, six.text_type):
                pattern = re.compile(fnmatch.translate(pattern))
            elif not hasattr(pattern, "match"):
                raise TypeError(
                    "channel_capacity keys must be glob strings or compiled regexes, not %s %r"
                    % (type(pattern).__name__, pattern))
            compiled.append((pattern, capacity))
        return compiled

    def get_capacity(self, channel):
        """
        The capacity of ``channel``: the first ``channel_capacity`` entry that
        matches it, else ``capacity``. A process-specific channel is matched by
        its non-local name, as all channels behind one ``!`` share a capacity.
        """
        name = self.non_local_name(channel)
        for pattern, capacity in self.channel_capacity:
            if pattern.match(name):
                return capacity
        return self.capacity

    # Names.

    def valid_channel_name(self, name, receive=False):
        """
        True if ``name`` is a valid channel name (for ``receive()`` if
        ``receive`` is true); otherwise ``TypeError`` saying which rule it broke.
        """
        regex = self.receive_name_regex if receive else self.channel_name_regex
        if type(name) is six.text_type and len(name) < NAME_LENGTH_LIMIT and regex.match(name):
            return True
        # The slow path: a subclass of text that follows the rule, or say
        # which rule the name broke.
        self._check_name_type("channel", name)
        if regex.match(name):
            return True
        if name.endswith("?"):
            raise TypeError(
                "channel name %r ends with '?': a single-reader name needs the random part "
                "that new_channel() adds" % name)
        if receive and self.channel_name_regex.match(name):
            raise TypeError(
                "cannot receive on %r: receive on its process-specific prefix %r"
                % (name, self.non_local_name(name)))
        raise TypeError("%s, with at most one '?' or '!' type character; %r is not"
                        % (self.invalid_name_error.format("Channel"), name))

    def valid_channel_names(self, names, receive=False):
        """
        True if ``names`` is a non-empty iterable (list, tuple, set, ...) of
        valid channel names, not itself a string; otherwise InvalidArgument
        for the collection or ``TypeError`` naming the bad name.
        """
        self.checked_channel_names(names, receive)
        return True

    def checked_channel_names(self, names, receive=False):
        """
        ``names`` as a list or tuple, once :meth:`valid_channel_names` holds:
        a layer's ``receive`` calls this once and reads the result, so a
        generator is consumed only here.
        """
        kind = type(names)
        if kind is not list and kind is not tuple:
            names = _name_sequence(names)
        if not names:
            raise InvalidArgument(
                "channel names must be a non-empty list, tuple or set of channel names, not an empty %s"
                % kind.__name__)
        regex = self.receive_name_regex if receive else self.channel_name_regex
        for name in names:
            # valid_channel_name's fast check, inline: receive() runs this every call.
            if not (type(name) is six.text_type and len(name) < NAME_LENGTH_LIMIT and regex.match(name)):
                self.valid_channel_name(name, receive)
        return names

    def valid_group_name(self, name):
        """True if ``name`` is a valid group name; otherwise ``TypeError`` saying which rule it broke."""
        self._check_name_type("group", name)
        if not self.group_name_regex.match(name):
            raise TypeError("%s; %r is not" % (self.invalid_name_error.format("Group"), name))
        return True

    def match_type_and_length(self, name):
        """True if ``name`` is text short enough to be a channel or group name."""
        return isinstance(name, six.text_type) and len(name) < NAME_LENGTH_LIMIT

    def _check_name_type(self, kind, name):
        if not self.match_type_and_length(name):
            if not isinstance(name, six.text_type):
                raise TypeError("%s name must be text, not %s %r" % (kind, type(name).__name__, name))
            raise TypeError(
                "%s name %r is %d characters long; names must be under %d"
                % (kind, name, len(name), NAME_LENGTH_LIMIT))

    def non_local_name(self, name):
        """
        The part of a process-specific channel name up to and including the
        ``!``; any other name unchanged.
        """
        prefix, bang, _ = name.partition("!")
        return prefix + bang

    # Messages.

    def checked_message(self, message, max_size=None, keep_tuples=False):
        """
        An independent copy of ``message`` once it passes the ASGI type rules
        (``TypeError`` naming the offending value otherwise), raising
        MessageTooLarge when its size, as ``checked_copy`` counts it (about
        its most compact encoding), is over ``max_size`` bytes. Tuples
        arrive as lists, as through any serialising layer, unless
        ``keep_tuples``.
        """
        # The flat shapes first, without going through checked_copy: a layer runs this for every send.
        copied = type(message) is dict and flat_copy(message, keep_tuples)
        if not copied:
            if not isinstance(message, dict):
                raise InvalidArgument("message must be a dict, not %s" % type(message).__name__)
            copied = walked_copy(message, keep_tuples)
        copy, size = copied
        if max_size is not None and size > max_size:
            raise self.MessageTooLarge(
                "message size is %d bytes; this layer carries at most %d" % (size, max_size))
        return copy


class GroupSends(object):
    """
    What a layer reports of its group sends: each one's outcome goes to the
    callables in ``observers`` (``observer(group, stored, dropped)``: the
    number of members that got the message, and the list of those at
    capacity that missed it), and members that missed it are logged at
    WARNING on ``logger``, at most once per group per ``interval`` seconds
    (the next line says how many more were dropped meanwhile). Safe from
    any thread.
    """

    def __init__(self, logger, interval=GROUP_DROP_LOG_INTERVAL):
        self.logger = logger
        self.interval = interval
        #: Callables told of every group send; the asgiref command's --metrics adds one.
        self.observers = []
        self._lock = threading.Lock()
        # Group -> [time of its last line, drops not logged since].
        self._logged = {}

    def sent(self, group, stored, dropped):
        """Report a send to ``group``: ``stored`` members got it, the channels in ``dropped`` did not (full)."""
        for observer in self.observers:
            observer(group, stored, dropped)
        if dropped:
            self._log(group, dropped)

    def _log(self, group, dropped):
        now = _clock()
        with self._lock:
            last = self._logged.get(group)
            if last is not None and now - last[0] < self.interval:
                last[1] += len(dropped)
                return
            if len(self._logged) > 10000:
                # Groups whose line is older than the interval need no record.
                self._logged = dict(item for item in self._logged.items() if now - item[1][0] < self.interval)
            earlier = last[1] if last is not None else 0
            self._logged[group] = [now, 0]
        self.logger.warning(
            "group %s: %d member(s) at capacity missed a message: %s%s (logged at most once per group per %gs)",
            group, len(dropped), ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else ""),
            "; %d more missed since the last line" % earlier if earlier else "", self.interval)


def _name_sequence(names):
    """The channel names of any iterable but a string, as a list; InvalidArgument otherwise."""
    if isinstance(names, (six.text_type, six.binary_type)):
        raise InvalidArgument(
            "channel names must be a list, tuple or set of channel names, not a single string %r: "
            "write [%r]" % (names, names))
    try:
        return list(names)
    except TypeError:
        six.raise_from(InvalidArgument(
            "channel names must be a non-empty list, tuple or set of channel names, not %s %r"
            % (type(names).__name__, names)), None)


def random_name_part():
    """
    Twelve characters for a channel name, from the operating system's
    cryptographic source (72 bits): a guessable reply channel would let one
    client read another's response.
    """
    return base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")


def check_positive_number(what, value):
    """``value`` if it is a finite number above 0; otherwise TypeError or ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, not %s %r" % (what, type(value).__name__, value))
    # Infinity and NaN would pass for "forever" until a timed wait or a clock
    # sum overflows on them; NaN fails every comparison.
    if not 0 < value <= sys.float_info.max:
        rule = "above 0" if value <= 0 else "a finite number above 0"
        raise ValueError("%s must be %s, not %r" % (what, rule, value))
    return value


def check_positive_int(what, value):
    """``value`` if it is an integer of at least 1; otherwise TypeError or ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, six.integer_types):
        raise TypeError("%s must be an integer, not %s %r" % (what, type(value).__name__, value))
    if value < 1:
        raise ValueError("%s must be at least 1, not %r" % (what, value))
    return value
