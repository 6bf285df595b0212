"""
An in-process, thread-safe channel layer. ``channel_layer`` is a ready-made
instance that every ASGI program in one process can share.
"""
from __future__ import unicode_literals

import heapq
import logging
import threading
from collections import OrderedDict, deque

import six

from .base_layer import (
    BaseChannelLayer, GroupSends, InvalidArgument, check_positive_int, check_positive_number, random_name_part,
)
# Expiry must not jump with the wall clock: the package's one monotonic clock.
from .bridge.layer_calls import clock as _clock
from .inmemory_twisted import TwistedReceive, twisted_imports
from .messages import flat_copy
from .wakeup import Wakeup

if six.PY2:
    class _AsyncReceive(object):
        """No ``async`` extension: Python 2 has no asyncio."""
else:
    # receive_async is Python 3 syntax, in a module Python 2 never imports.
    from .inmemory_async import AsyncReceive as _AsyncReceive


#: Group schedules are rebuilt once stale entries outnumber live ones by this
#: factor, so discarded memberships never pile up for a whole group_expiry.
_STALE_FACTOR = 2

#: At most this many schedule entries that fell due (a channel's expired
#: messages, a lapsed membership) are worked through per call, so however
#: many expire at once no call holds the lock for long. A call adds at most
#: one of each, so reclaim keeps up.
_RECLAIM_BATCH = 100

#: What ``_put`` returns for a channel at its capacity.
_FULL = object()

#: The channel names checked last are remembered, up to this many for send
#: and as many for receive, so using them again skips the name rule's
#: regular expression.
_KNOWN_NAMES = 1024


class _Extensions(object):
    """
    The ``extensions`` of the layer's class: ``listed`` plus ``twisted``
    where Twisted imports. Decided on first look, so importing the layer
    never imports Twisted (a tenth of a second) for code that never asks.
    """

    def __init__(self, listed):
        self._listed = listed
        self._decided = None

    def __get__(self, layer, owner):
        if self._decided is None:
            self._decided = self._listed + (["twisted"] if twisted_imports() else [])
        return self._decided


class ChannelLayer(_AsyncReceive, TwistedReceive, BaseChannelLayer):
    """
    Channels, groups and statistics held in this process's memory.

    The constructor keeps asgiref 1.1's keywords and defaults: each channel
    holds at most ``capacity=10`` messages unless ``channel_capacity`` says
    otherwise. Every method is safe to call from any thread. A message is copied when
    sent (tuples stay tuples, as in asgiref 1.1); ``receive(block=True)``
    sleeps until a message for one of its channels is sent from any thread,
    or ``receive_timeout`` seconds pass. Messages whose payload is over
    ``max_message_size`` bytes (``None``: no limit) raise MessageTooLarge.

    ``receive_async`` (Python 3) and ``receive_twisted`` (with Twisted
    installed) wait the same way without a thread: a send wakes the event
    loop or reactor that called them.

    A send to a channel that a receiver waits on hands the message to the
    longest-waiting one, then wakes it once the lock is released, so the
    woken receiver never waits for the lock.
    """

    extensions = _Extensions(["groups", "flush", "statistics"] + ([] if six.PY2 else ["async"]))

    # asgiref 1.1's signature and defaults (capacity 10), then this layer's own keywords.
    def __init__(self, expiry=60, group_expiry=86400, capacity=10, channel_capacity=None,
                 max_message_size=1024 * 1024, receive_timeout=5):
        super(ChannelLayer, self).__init__(
            expiry=expiry,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
        )
        if max_message_size is not None:
            check_positive_int("max_message_size", max_message_size)
        self.max_message_size = max_message_size
        self.receive_timeout = check_positive_number("receive_timeout", receive_timeout)
        # Without channel_capacity every channel has ``capacity``, and send
        # skips get_capacity, unless a subclass has its own.
        self._own_get_capacity = type(self).get_capacity is not BaseChannelLayer.get_capacity
        self._lock = threading.Lock()
        self._waiters = {}
        # Channel name -> its queue name, for names send and receive have checked.
        self._sendable = {}
        self._receivable = {}
        self._sent = 0
        self._full = 0
        #: Group sends, reported (members that missed one are logged at WARNING).
        self.group_sends = GroupSends(logging.getLogger(__name__))
        self._empty()

    def _empty(self):
        # Queue name (a process-specific channel's non-local name) -> _Queue.
        self._queues = {}
        # Heap of (when to look at a queue again, queue name): one entry for
        # each queue, so expiry never scans channels that have nothing due.
        self._queue_schedule = []
        # Group -> {member channel: time of its last group_add}.
        self._groups = {}
        # Member channel -> set of its groups, to leave them all at once.
        self._memberships = {}
        self._membership_count = 0
        # Heap of (when a membership may lapse, group, channel).
        self._group_schedule = []
        self._pending = 0
        # True while entries that fell due wait for the next calls' batches.
        self._behind = False

    # The ASGI API.

    def send(self, channel, message):
        """
        Queue a copy of ``message`` on ``channel``. Raises ChannelFull when the
        channel holds its capacity (``get_capacity``), MessageTooLarge when the
        payload is over ``max_message_size``, TypeError for a bad name or value.
        """
        name = self._sendable.get(channel) if type(channel) is six.text_type else None
        if name is None:
            name = self._queue_name(channel)
        # The flat shapes' check and copy without checked_message's call;
        # any other message, or one too large, goes through it to be walked or refused.
        copied = flat_copy(message, True) if type(message) is dict else None
        if copied is None or (self.max_message_size is not None and copied[1] > self.max_message_size):
            message = self.checked_message(message, self.max_message_size, keep_tuples=True)
        else:
            message = copied[0]
        capacity = self.get_capacity(name) if self.channel_capacity or self._own_get_capacity else self.capacity
        with self._lock:
            handed = self._put(name, channel, message, capacity, self._reclaim())
        if handed is not None:
            if handed is _FULL:
                raise self.ChannelFull("channel %r is at its capacity of %d messages" % (channel, capacity))
            self._ring(handed)

    def receive(self, channels, block=False):
        """
        Take the message that has waited longest on any of ``channels``
        (a process-specific prefix such as ``"daphne.response.X!"`` takes
        messages for every channel behind it) and return ``(channel,
        message)`` with the full channel name, or ``(None, None)``.
        """
        names = self._receive_names(channels)
        with self._lock:
            found = self._take(names, self._reclaim())
            if found is not None or not block:
                return found or (None, None)
            waiter = _Waiter(names)
            self._register(waiter)
        return self._wait(waiter) or (None, None)

    def new_channel(self, pattern):
        """A single-reader channel name not in use: ``pattern`` (ending in ``?``) plus 12 random characters."""
        if not isinstance(pattern, six.text_type) or not pattern.endswith("?"):
            raise InvalidArgument("new_channel() needs a pattern ending in '?', not %r" % (pattern,))
        while True:
            name = pattern + random_name_part()
            self.valid_channel_name(name)
            with self._lock:
                if name not in self._queues:
                    return name

    # The groups extension.

    def group_add(self, group, channel):
        """Add ``channel`` to ``group``; adding it again restarts its ``group_expiry``."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        with self._lock:
            now = self._reclaim()
            members = self._groups.setdefault(group, {})
            if channel not in members:
                heapq.heappush(self._group_schedule, (now + self.group_expiry, group, channel))
                self._memberships.setdefault(channel, set()).add(group)
                self._membership_count += 1
            members[channel] = now

    def group_discard(self, group, channel):
        """Remove ``channel`` from ``group`` if it is a member."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        with self._lock:
            self._reclaim()
            self._leave(group, channel)
            self._prune_group_schedule()

    def group_channels(self, group):
        """A list of the channels in ``group`` now; later changes do not show in it."""
        self.valid_group_name(group)
        with self._lock:
            return self._members(group, self._reclaim())

    def send_group(self, group, message):
        """
        Send a copy of ``message`` to every channel in ``group``. A member at
        capacity misses it (counted as ChannelFull in the statistics, and
        logged at WARNING at most once per group per minute); only
        MessageTooLarge or TypeError is raised, before anything is sent.
        """
        self.valid_group_name(group)
        message = self.checked_message(message, self.max_message_size, keep_tuples=True)
        with self._lock:
            members = self._members(group, self._reclaim())
        if not members:
            return
        # Copies are made outside the lock; each member gets its own.
        copies = [message] + [self.checked_message(message, keep_tuples=True) for _ in members[1:]]
        targets = [(self.non_local_name(channel), channel) for channel in members]
        capacities = [self.get_capacity(name) for name, _ in targets]
        with self._lock:
            now = self._reclaim()
            handed = [self._put(name, channel, copy, capacity, now)
                      for (name, channel), copy, capacity in zip(targets, copies, capacities)]
        dropped = []
        for waiter, (_, channel) in zip(handed, targets):
            if waiter is _FULL:
                dropped.append(channel)
            elif waiter is not None:
                self._ring(waiter)
        self.group_sends.sent(group, len(handed) - len(dropped), dropped)

    # The flush extension.

    def flush(self):
        """Drop every message and group; receivers blocked now keep waiting for new messages."""
        with self._lock:
            self._empty()

    # The statistics extension.

    def global_statistics(self):
        """
        ``messages_count`` sent since start, ``messages_pending`` now,
        ``channel_full_count`` since start. Finishes any reclaim in
        progress first, a batch at a time, letting other calls in between.
        """
        while True:
            with self._lock:
                self._reclaim_due(_clock())
                if not self._behind:
                    return {
                        "messages_count": self._sent,
                        "messages_pending": self._pending,
                        "channel_full_count": self._full,
                    }

    def channel_statistics(self, channel):
        """
        ``messages_count``, ``messages_pending``, ``messages_max_age`` (seconds)
        and ``channel_full_count`` of one channel (all channels behind one
        process-specific prefix count together). A channel with nothing sent
        to it for ``expiry`` seconds is forgotten and starts again from zero.
        """
        self.valid_channel_name(channel)
        name = self.non_local_name(channel)
        with self._lock:
            now = self._reclaim()
            queue = self._queues.get(name)
            if queue and queue[0][0] <= now - self.expiry:
                self._expire(queue, now)
            if queue is None or (not queue and queue.last_sent + self.expiry <= now):
                return {"messages_count": 0, "messages_pending": 0, "messages_max_age": 0, "channel_full_count": 0}
            return {
                "messages_count": queue.sent,
                "messages_pending": len(queue),
                "messages_max_age": now - queue[0][0] if queue else 0,
                "channel_full_count": queue.full,
            }

    def overview(self):
        """
        What waits in the layer now, for ``asgiref stats``: ``{"channels":
        [[name, messages waiting, capacity], ...], "groups": [[group,
        members], ...]}``, channels with nothing waiting left out; the
        channels behind one process-specific prefix count together, under
        it (``name!``). Messages and memberships that expired are counted
        until the layer's reclaim reaches them.
        """
        with self._lock:
            self._reclaim()
            waiting = [(name, len(queue)) for name, queue in self._queues.items() if queue]
            groups = [[group, len(members)] for group, members in self._groups.items() if members]
        return {"channels": [[name, count, self.get_capacity(name)] for name, count in waiting], "groups": groups}

    def _queue_name(self, channel):
        """The queue name of a channel name send may use, once checked (TypeError if it is bad)."""
        self.valid_channel_name(channel)
        name = self.non_local_name(channel) if "!" in channel else channel
        _remember(self._sendable, channel, name)
        return name

    def _receive_names(self, channels):
        """The queue names behind ``channels``, checked as ``receive`` checks them."""
        kind = type(channels)
        if kind is list or kind is tuple:
            known = self._receivable
            names = [known.get(channel) if type(channel) is six.text_type else None for channel in channels]
            if names and None not in names:
                return names
        channels = self.checked_channel_names(channels, receive=True)
        names = [self.non_local_name(channel) if "!" in channel else channel for channel in channels]
        for channel, name in zip(channels, names):
            _remember(self._receivable, channel, name)
        return names

    # Waiting. A send hands its message to the longest-waiting receiver of
    # its channel (``waiter.found``) under the lock and rings it after: the
    # receiver wakes to its message without taking the lock. Every kind of
    # waiter (blocking, receive_async, receive_twisted) is on the same list.

    def _wait(self, waiter):
        """Sleep until a send hands ``waiter`` a message, or the timeout; the message or None."""
        deadline = _clock() + self.receive_timeout
        while not waiter.wait(deadline - _clock()):
            # A wait can end early: the longest a lock waits is TIMEOUT_MAX.
            if _clock() >= deadline:
                return self._stop_waiting(waiter)
        return waiter.found

    def _take_or_register(self, waiter):
        """Take the oldest message for ``waiter``, or register it to be handed the next one."""
        with self._lock:
            found = self._take(waiter.names, self._reclaim())
            if found is None:
                self._register(waiter)
            return found

    def _stop_waiting(self, waiter):
        """Take ``waiter`` off the list (its timeout): the message handed to it meanwhile, or None."""
        with self._lock:
            self._unregister(waiter)
            return waiter.found

    def _give_up(self, waiter):
        """A cancelled wait: stop waiting, passing on a message handed to it but not used."""
        with self._lock:
            self._unregister(waiter)
            handed = self._pass_on(waiter)
        if handed is not None:
            self._ring(handed)

    def _ring(self, waiter):
        """Wake ``waiter``, handed a message; if it can no longer be woken, pass the message on."""
        while not waiter.ring():
            with self._lock:
                waiter = self._pass_on(waiter)
            if waiter is None:
                return

    # Internals; every method below runs with the lock held.

    def _pass_on(self, waiter):
        """
        Take back the message handed to ``waiter``, if it still has it: hand
        it to the next waiter of its channel (returned, to ring), or put it
        back at the head of its queue, where it was the oldest.
        """
        found, waiter.found = waiter.found, None
        if found is None:
            return None
        channel, message = found
        name = self.non_local_name(channel) if "!" in channel else channel
        waiters = self._waiters.get(name)
        if waiters:
            return self._hand_over(waiters, found, waiter.sent)
        queue = self._queues.get(name)
        if queue is None:
            # Reclaimed in the meantime; its schedule entry went with it.
            queue = self._queues[name] = _Queue()
            queue.last_sent = waiter.sent
            heapq.heappush(self._queue_schedule, (waiter.sent + self.expiry, name))
        queue.appendleft((waiter.sent, channel, message))
        self._pending += 1
        return None

    def _hand_over(self, waiters, found, sent):
        """Give ``found`` to the longest-waiting of ``waiters``, taking it off the list; return it."""
        waiter = next(iter(waiters))
        self._unregister(waiter)
        waiter.found = found
        waiter.sent = sent
        return waiter

    def _put(self, name, channel, message, capacity, now):
        """
        Queue a message, or hand it to a waiting receiver: None, or that
        receiver, to ring once the lock is released. At capacity, count a
        ChannelFull and return ``_FULL``.
        """
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue()
            heapq.heappush(self._queue_schedule, (now + self.expiry, name))
        elif not queue and queue.last_sent + self.expiry <= now:
            # Forgotten, though reclaim has not come to it yet: it starts again from zero.
            queue.sent = queue.full = 0
        if len(queue) >= capacity:
            # Expired messages, which reclaim may not have come to yet, take no room.
            if queue[0][0] <= now - self.expiry:
                self._expire(queue, now)
            if len(queue) >= capacity:
                queue.full += 1
                self._full += 1
                return _FULL
        queue.sent += 1
        queue.last_sent = now
        self._sent += 1
        waiters = self._waiters.get(name)
        if waiters:
            # A channel with waiters has nothing queued: its receivers took
            # everything before they waited, and every send since was handed over.
            return self._hand_over(waiters, (channel, message), now)
        queue.append((now, channel, message))
        self._pending += 1
        return None

    def _take(self, names, now):
        """Pop the oldest live message among the named queues, or return None."""
        oldest = None
        sent_before = now - self.expiry
        for name in names:
            queue = self._queues.get(name)
            if queue:
                if queue[0][0] <= sent_before:
                    self._expire(queue, now)
                    if not queue:
                        continue
                if oldest is None or queue[0][0] < oldest[0][0]:
                    oldest = queue
        if oldest is None:
            return None
        self._pending -= 1
        _, channel, message = oldest.popleft()
        return channel, message

    def _register(self, waiter):
        if not waiter.registered:
            waiter.registered = True
            for name in waiter.names:
                self._waiters.setdefault(name, OrderedDict())[waiter] = None

    def _unregister(self, waiter):
        # A woken waiter leaves every queue it waited on at once, so each send
        # wakes a different waiter and no message is left with sleepers.
        if waiter.registered:
            waiter.registered = False
            for name in waiter.names:
                waiters = self._waiters[name]
                waiters.pop(waiter, None)
                if not waiters:
                    del self._waiters[name]

    def _reclaim(self):
        """Drop what expired, on every channel and group, a batch at most; return the time."""
        now = _clock()
        # Most calls find nothing due: two comparisons, no loop, no call.
        queues_due = self._queue_schedule and self._queue_schedule[0][0] <= now
        if queues_due or (self._group_schedule and self._group_schedule[0][0] <= now):
            self._reclaim_due(now)
        return now

    def _due(self, now):
        """Whether a channel or a membership may have expired by ``now``."""
        return bool((self._queue_schedule and self._queue_schedule[0][0] <= now)
                    or (self._group_schedule and self._group_schedule[0][0] <= now))

    def _reclaim_due(self, now):
        batch = _RECLAIM_BATCH
        schedule = self._queue_schedule
        while schedule and schedule[0][0] <= now and batch:
            batch -= 1
            _, name = heapq.heappop(schedule)
            queue = self._queues[name]
            self._expire(queue, now)
            if queue:
                heapq.heappush(schedule, (queue[0][0] + self.expiry, name))
            elif queue.last_sent + self.expiry > now:
                heapq.heappush(schedule, (queue.last_sent + self.expiry, name))
            else:
                del self._queues[name]
        schedule = self._group_schedule
        while schedule and schedule[0][0] <= now and batch:
            batch -= 1
            _, group, channel = heapq.heappop(schedule)
            added = self._groups.get(group, {}).get(channel)
            if added is None:
                continue
            if added + self.group_expiry > now:
                heapq.heappush(schedule, (added + self.group_expiry, group, channel))
            else:
                self._leave(group, channel)
        self._behind = not batch and self._due(now)

    def _members(self, group, now):
        """
        The group's members now. While reclaim is behind, those it has yet to
        remove (their message expired, or their membership lapsed) are
        removed or left out here.
        """
        members = self._groups.get(group)
        if not members:
            return []
        if not (self._behind and self._due(now)):
            return list(members)
        sent_before = now - self.expiry
        for channel in list(members):
            queue = self._queues.get(self.non_local_name(channel))
            if queue and queue[0][0] <= sent_before:
                self._expire(queue, now)
        lapsed_before = now - self.group_expiry
        return [channel for channel, added in self._groups.get(group, {}).items() if added > lapsed_before]

    def _expire(self, queue, now):
        """Drop a queue's expired messages; their channels leave every group."""
        sent_before = now - self.expiry
        left_groups = False
        while queue and queue[0][0] <= sent_before:
            _, channel, _ = queue.popleft()
            self._pending -= 1
            for group in list(self._memberships.get(channel, ())):
                self._leave(group, channel)
                left_groups = True
        if left_groups:
            self._prune_group_schedule()

    def _leave(self, group, channel):
        members = self._groups.get(group)
        if members is None or channel not in members:
            return
        del members[channel]
        if not members:
            del self._groups[group]
        groups = self._memberships[channel]
        groups.discard(group)
        if not groups:
            del self._memberships[channel]
        self._membership_count -= 1

    def _prune_group_schedule(self):
        # Memberships that ended early leave stale schedule entries behind.
        if len(self._group_schedule) > _STALE_FACTOR * self._membership_count + 64:
            self._group_schedule = [
                (added + self.group_expiry, group, channel)
                for group, members in self._groups.items()
                for channel, added in members.items()
            ]
            heapq.heapify(self._group_schedule)


def _remember(known, channel, name):
    """Note in ``known`` that ``channel`` passed its check, with its queue name."""
    # Only plain text: a subclass could compare equal to a name it is not.
    if type(channel) is six.text_type:
        if len(known) >= _KNOWN_NAMES:
            known.clear()
        known[channel] = name


class _Queue(deque):
    """One channel's pending ``(sent time, channel, message)``, oldest first, and its counters."""

    __slots__ = ("sent", "full", "last_sent")

    def __init__(self):
        deque.__init__(self)
        self.sent = 0
        self.full = 0
        self.last_sent = 0


class _Waiter(object):
    """
    A receive(block=True) that is asleep on some queues.

    Every kind of waiter has ``names``, ``registered``, ``found`` (the
    ``(channel, message)`` handed to it, sent at ``sent``) and ``ring()``,
    which the layer calls once, without its lock, after handing it a
    message; ``ring()`` returns False if the waiter can no longer be woken.
    """

    __slots__ = ("ring", "wait", "names", "registered", "found", "sent")

    def __init__(self, names):
        wakeup = Wakeup()
        self.ring = wakeup.ring
        self.wait = wakeup.wait
        # A name listed twice in receive() is waited on once.
        self.names = frozenset(names)
        self.registered = False
        self.found = None
        self.sent = None


#: A layer shared by everything in this process that imports it.
channel_layer = ChannelLayer()
