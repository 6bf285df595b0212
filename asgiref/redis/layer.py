"""
A channel layer on Redis, for ASGI programs in several processes or on
several machines: a drop-in replacement for asgi_redis 1.4's, on current
redis-py, that reads and writes the same keys in the same encoding, so
processes using either share one deployment.

    from asgiref.redis import RedisChannelLayer

    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0"])

Needs ``pip install ".[redis]" in a checkout``. ``docs/choices.rst`` and the README
say what it promises.
"""
from __future__ import absolute_import, unicode_literals

import collections
import itertools
import logging
import math
import threading
import time

import six

from ..base_layer import BaseChannelLayer, GroupSends, check_positive_int, check_positive_number, random_name_part
from ..bridge.layer_calls import clock
from . import wire
from .connection import RedisUnavailable, Script, Server, check_tls_keywords, connection_pool, pack_arguments, \
    server_urls
from .receive_plan import RECEIVE, RECEIVE_MOVED, SEND, VERSION, Command, Done, Pause, Pipeline
from .urls import connection_options, redacted

__all__ = ["RedisChannelLayer", "ChannelLayer", "RedisUnavailable"]

_GROUP_ADD = Script(wire.GROUP_ADD)
_GROUP_CHANNELS = Script(wire.GROUP_CHANNELS)
_CHANNEL_STATISTICS = Script(wire.CHANNEL_STATISTICS)
_FLUSH = Script(wire.FLUSH)

# asgi_redis 1.4's defaults, for both layers: seconds a message lives, the
# keys' prefix, seconds a group membership lives, messages a channel holds,
# the statistics keys' prefix.
EXPIRY = 60
PREFIX = "asgi:"
GROUP_EXPIRY = 86400
CAPACITY = 100
STATS_PREFIX = "asgi-meta:"
#: A blocked receive over several servers waits on each in turn this long
#: (a whole second on a Redis older than 7).
SHARD_SLICE = 0.1
# Receive plans kept per layer, for as many distinct channel lists.
_PLANS_KEPT = 512
#: While a server is unreachable, a blocked receive tries again this often.
_RECONNECT_PAUSE = 0.2
#: A receive on one process-specific channel (``name!``) takes up to this
#: many of its messages in one round trip; the next receives on it get the
#: rest without asking Redis.
PREFETCH = 64
#: How long :meth:`RedisChannelLayer.ping` waits, in all, for its servers to answer.
PING_TIMEOUT = 1


def _twisted_installed():
    try:
        from importlib.util import find_spec
    except ImportError:
        import imp
        try:
            imp.find_module("twisted")
        except ImportError:
            return False
        return True
    return find_spec("twisted") is not None


class RedisChannelLayer(BaseChannelLayer):
    """
    Channels, groups and statistics kept in one or more Redis servers.

    asgi_redis 1.4's keywords, meanings and defaults: ``hosts`` (URLs such
    as ``redis://host:6379/0``, ``rediss://...`` or ``unix:///path?db=0``,
    or ``(host, port)`` pairs; several shard the channels), ``prefix``,
    ``expiry``, ``group_expiry``, ``capacity``, ``channel_capacity``,
    ``symmetric_encryption_keys`` (Fernet; the first key encrypts, all
    decrypt), ``stats_prefix`` and ``connection_kwargs`` (for redis-py's
    connections). Ours: ``receive_timeout``, how long ``receive(block=True)``
    waits (asgi_redis's fixed 5 s), and ``max_message_size`` (bytes of
    payload; None, the default, as asgi_redis: no limit).

    Every operation is one round trip to one server, by server-side scripts
    that check capacity and store, or pop and read, atomically. A server
    that cannot be reached raises :class:`RedisUnavailable` naming it; a
    blocked receive keeps trying until its timeout, so it rides through a
    restart.
    """

    extensions = ["groups", "flush", "statistics"]
    if _twisted_installed():
        extensions.append("twisted")

    #: asgi_redis's name for how long a blocked receive waits; the default of ``receive_timeout``.
    blpop_timeout = 5

    def __init__(self, expiry=EXPIRY, hosts=None, prefix=PREFIX, group_expiry=GROUP_EXPIRY, capacity=CAPACITY,
                 channel_capacity=None, symmetric_encryption_keys=None, stats_prefix=STATS_PREFIX,
                 connection_kwargs=None, receive_timeout=None, max_message_size=None):
        super(RedisChannelLayer, self).__init__(
            expiry=expiry,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
        )
        self.prefix = _text("prefix", prefix)
        self.stats_prefix = _text("stats_prefix", stats_prefix)
        self.receive_timeout = check_positive_number(
            "receive_timeout", self.blpop_timeout if receive_timeout is None else receive_timeout)
        if max_message_size is not None:
            check_positive_int("max_message_size", max_message_size)
        self.max_message_size = max_message_size
        self.codec = wire.Codec(symmetric_encryption_keys, expiry)
        self.crypter = self.codec.crypter
        #: What each connection is made with: ``connection_kwargs`` and the layer's defaults.
        self.connection_kwargs = self._connection_kwargs(connection_kwargs)
        self._servers = self._connect(hosts, self.connection_kwargs)
        self.ring_size = len(self._servers)
        self._prefix_length = len(self.prefix.encode("utf8"))
        self._expiry_ms = int(math.ceil(expiry * 1000))
        self._send_turn = itertools.count()
        self._receive_turn = itertools.count()
        self._plans = {}
        # Messages a receive took beyond its first, per list key: {key: deque of (time taken, content)}.
        self._prefetched = {}
        self._prefetch_lock = threading.Lock()
        #: Group sends, reported (members that missed one are logged at WARNING).
        self.group_sends = GroupSends(logging.getLogger(__name__))

    def _connection_kwargs(self, connection_kwargs):
        kwargs = dict(connection_kwargs or {})
        self._check_socket_timeout(kwargs, "connection_kwargs")
        check_tls_keywords(kwargs)
        # A server that stops answering (a network failure, a stopped
        # process) is an error soon after the longest wait we ask of it.
        kwargs.setdefault("socket_timeout", self.receive_timeout + 1)
        # Connecting to a host that does not answer fails after 5 s (unix
        # sockets connect at once, and redis-py 3 takes no such keyword there).
        self._connect_timeout_defaulted = "socket_connect_timeout" not in kwargs
        kwargs.setdefault("socket_connect_timeout", 5)
        # The scripts' replies are bytes; the layer decodes them itself.
        kwargs["decode_responses"] = False
        return kwargs

    def _check_socket_timeout(self, kwargs, where):
        socket_timeout = kwargs.get("socket_timeout")
        if socket_timeout is not None and socket_timeout < self.receive_timeout:
            raise ValueError(
                "%s socket_timeout (%s) must be at least receive_timeout (%s): a blocked "
                "receive waits that long for Redis to answer" % (where, socket_timeout, self.receive_timeout))

    def server_kwargs(self, url):
        """The connection keywords for the server at ``url``: ``connection_kwargs``, with the URL's over them."""
        url_kwargs = dict(self.connection_kwargs)
        if url.startswith("unix://") and self._connect_timeout_defaulted:
            del url_kwargs["socket_connect_timeout"]
        return url_kwargs

    def _connect(self, hosts, kwargs):
        self.hosts = server_urls(hosts)
        servers = []
        for url in self.hosts:
            self._check_socket_timeout(connection_options(url), redacted(url))
            servers.append(Server(connection_pool(url, self.server_kwargs(url))))
        return servers

    # The ASGI API.

    def send(self, channel, message):
        """
        Store ``message`` on ``channel``: ChannelFull when the channel holds
        its capacity, MessageTooLarge over ``max_message_size``, TypeError for
        a bad name or value, RedisUnavailable when the server cannot be
        reached (a lost connection can hide whether it was stored; never stored
        twice).
        """
        server, keys, arguments, capacity = self.send_plan(channel, message)
        self.check_stored(server.run(SEND, keys, arguments, retry=False), channel, capacity)

    def send_plan(self, channel, message):
        """
        ``send``'s checks and encoding without its I/O, for the synchronous
        and the asyncio send: ``(server, keys, arguments, capacity)`` of the
        one script call that stores ``message``; its reply goes to
        :meth:`check_stored`.
        """
        self.valid_channel_name(channel)
        message = self._checked(message)
        if "!" in channel:
            message[wire.CHANNEL_FIELD] = channel
            name = self.non_local_name(channel)
            server = self._server_of(name)
        elif "?" in channel:
            name = channel
            server = self._server_of(name)
        else:
            name = channel
            server = self._servers[next(self._send_turn) % self.ring_size] if self.ring_size > 1 else self._servers[0]
        capacity = self.get_capacity(name)
        keys = wire.message_keys(self.prefix, 1) + [self.prefix + name]
        return server, keys, self._send_arguments([self.codec.encode(message)], [capacity, 1]), capacity

    def check_stored(self, stored, channel, capacity):
        """Raise ChannelFull unless the send script's reply ``stored`` says it stored the message."""
        if not stored[0]:
            raise self.ChannelFull("channel %r is at its capacity of %d messages" % (channel, capacity))

    def _checked(self, message):
        message = self.checked_message(message, self.max_message_size)
        if wire.CHANNEL_FIELD in message:
            raise ValueError("%r is reserved: the layer stores a process-specific channel's name in it"
                             % wire.CHANNEL_FIELD)
        return message

    def _send_arguments(self, payloads, per_message):
        return [self._expiry_ms, self._prefix_length, self.stats_prefix, wire.CHANNEL_STATISTICS_EXPIRY,
                wire.GLOBAL_STATISTICS_EXPIRY, len(payloads)] + payloads + per_message

    def receive(self, channels, block=False):
        """
        Take a message from one of ``channels`` and return ``(channel,
        message)``, or ``(None, None)``. With ``block``, wait in Redis up to
        ``receive_timeout`` seconds for one. Each call starts at another
        channel and server, so a busy channel starves no other.
        """
        steps = self.receive_steps(channels, block)
        step = next(steps)
        while not isinstance(step, Done):
            step = steps.send(_perform(step))
        return step.result

    def receive_steps(self, channels, block, pipelines=True):
        """
        The receive algorithm without its I/O, for the synchronous and the
        asyncio receive: a generator of the steps of
        ``asgiref.redis.receive_plan`` (Command, Pipeline, Pause), each to be
        sent back what it gave, and last a Done with ``(channel, message)``.
        It raises the RedisUnavailable that ends a receive. Pipeline steps
        come only if ``pipelines``, or for one process-specific channel,
        whose caller must hand what a step it gave up on took to
        :meth:`keep_taken`.
        """
        plan = self._receive_plan(channels)
        batch = 1
        if len(plan) == 1 and len(plan[0][1]) == 1 and plan[0][1][0].endswith("!"):
            batch = PREFETCH
            if self._prefetched:
                found = self._take_prefetched(plan[0][1][0].encode("utf8"))
                if found is not None:
                    yield Done(self._unpack(found))
        turn = next(self._receive_turn)
        if len(plan) > 1:
            shift = turn % len(plan)
            plan = plan[shift:] + plan[:shift]
        deadline = clock() + self.receive_timeout if block else None
        pipelines = pipelines or batch > 1
        # Blocking on one list on Redis 7, go straight to the BLMOVE below: it
        # returns at once when the list holds a message, so an empty list
        # costs one round trip, not three.
        straight = block and pipelines and len(plan) == 1 and len(plan[0][1]) == 1 and plan[0][0].fractional_timeouts
        while True:
            failure = None
            for server, keys, packed_keys in () if straight else plan:
                # Each call starts at another channel: none starves the others.
                found = yield Command(server, RECEIVE, keys, (turn % len(keys), batch), packed_keys)
                if isinstance(found, RedisUnavailable):
                    failure = found
                elif found:
                    yield Done(self._unpack(found))
            straight = False
            remaining = deadline - clock() if block else 0
            if remaining <= 0.001:
                if failure is not None:
                    raise failure
                yield Done((None, None))
            server, keys, packed_keys = plan[0]
            if failure is None and server.fractional_timeouts is None:
                # Fractional BLPOP timeouts came with Redis 6; only 7 says its version to a script.
                failure = version = yield Command(server, VERSION, (), (), None)
                if not isinstance(version, RedisUnavailable):
                    server.fractional_timeouts = version >= 0x070000
            if not isinstance(failure, RedisUnavailable):
                # Over several servers, wait on each in turn.
                plan = plan[1:] + plan[:1]
                wait = remaining if len(plan) == 1 else min(remaining, SHARD_SLICE)
                wait = wait if server.fractional_timeouts else math.ceil(wait)
                if pipelines and len(keys) == 1 and server.fractional_timeouts:
                    # One list on Redis 7: move its next message key to a list
                    # of this call's own and read it in the same round trip.
                    holding = "%s#holding#%s" % (self.prefix, random_name_part())
                    failure = replies = yield Pipeline(server, (
                        ("BLMOVE", keys[0], holding, "LEFT", "RIGHT", _timeout(wait)),
                        ("EVALSHA", RECEIVE_MOVED.sha, 2, holding, keys[0], batch)), RECEIVE_MOVED)
                    if not isinstance(replies, RedisUnavailable) and replies[-1]:
                        yield Done(self._unpack(replies[-1]))
                else:
                    shift = turn % len(keys)
                    blpop = ("BLPOP",) + keys[shift:] + keys[:shift] + (_timeout(wait),)
                    failure = popped = yield Command(server, None, blpop, (), None)
                    if popped and not isinstance(popped, RedisUnavailable):
                        arguments = (0, batch, popped[1], popped[0])
                        failure = found = yield Command(server, RECEIVE, keys, arguments, packed_keys)
                        if found and not isinstance(found, RedisUnavailable):
                            yield Done(self._unpack(found))
            if isinstance(failure, RedisUnavailable):
                remaining = deadline - clock()
                if remaining <= 0.001:
                    raise failure
                # The server is down or restarting: try again shortly.
                yield Pause(min(_RECONNECT_PAUSE, remaining))

    def _receive_plan(self, channels):
        """
        ``[(server, list keys, the keys packed for Redis)]`` for a receive on
        ``channels``, validated and worked out once per channel list.
        """
        kind = type(channels)
        if kind is not list and kind is not tuple:
            # A set, as Channels 1.x passes, or a generator: read it once.
            channels = self.checked_channel_names(channels, receive=True)
        try:
            plan = self._plans[tuple(channels)]
        except (KeyError, TypeError):
            pass
        else:
            # Python 2 finds b"name" and u"name" equal: only text may use the plan.
            if not six.PY2 or all(type(channel) is six.text_type for channel in channels):
                return plan
        self.valid_channel_names(channels, receive=True)
        plan = self._new_plan(channels)
        if len(self._plans) >= _PLANS_KEPT:
            self._plans.clear()
        self._plans[tuple(channels)] = plan
        return plan

    def _new_plan(self, channels):
        """The receive plan of ``channels`` (checked names), as :meth:`_receive_plan` describes it."""
        prefix = self.prefix
        # A single-reader or process-specific channel lives on the server its
        # name hashes to; others on any server, as senders take turns.
        keys = [[] for _ in self._servers]
        for channel in channels:
            if self.ring_size > 1 and ("!" in channel or "?" in channel):
                keys[self.consistent_hash(channel)].append(prefix + channel)
            else:
                for server_keys in keys:
                    server_keys.append(prefix + channel)
        return [(server, tuple(server_keys), pack_arguments(server_keys))
                for server, server_keys in zip(self._servers, keys) if server_keys]

    def _take_prefetched(self, list_key):
        """A ``[list key, content]`` that a receive took ahead from ``list_key`` and has not expired, or None."""
        with self._prefetch_lock:
            waiting = self._prefetched.get(list_key)
            while waiting:
                taken, content = waiting.popleft()
                if clock() - taken < self.expiry:
                    return [list_key, content]
            self._prefetched.pop(list_key, None)
        return None

    def keep_taken(self, found):
        """
        Keep the messages of a receive script's reply ``found`` (``[list key,
        content, ...]``, from a process-specific channel) for the next
        receives on that channel, after any kept before.
        """
        taken = clock()
        with self._prefetch_lock:
            self._prefetched.setdefault(found[0], collections.deque()).extend(
                (taken, content) for content in found[1:])

    def _unpack(self, found):
        list_key, content = found[0], found[1]
        if len(found) > 2:
            # The rest of a process-specific channel's batch, for the next receives on it.
            self.keep_taken(found[:1] + found[2:])
        channel = self._channel_of(list_key)
        try:
            message = self.codec.decode(content)
        except Exception as error:
            raise ValueError("a message on channel %r could not be decoded (%s: %s); is it encrypted with "
                             "a key not in symmetric_encryption_keys?" % (channel, type(error).__name__, error))
        full_name = message.pop(wire.CHANNEL_FIELD, None)
        return full_name or channel, message

    def _channel_of(self, list_key):
        """The channel name that a list key (bytes, as a script returns it) holds."""
        return list_key[self._prefix_length:].decode("utf8")

    def new_channel(self, pattern):
        """A single-reader channel name: ``pattern`` (ending in ``?``) plus 12 random characters (72 bits)."""
        if not isinstance(pattern, six.text_type) or not pattern.endswith("?"):
            raise TypeError("new_channel() needs a pattern ending in '?', not %r" % (pattern,))
        name = pattern + random_name_part()
        self.valid_channel_name(name)
        return name

    # The groups extension.

    def group_add(self, group, channel):
        """Add ``channel`` to ``group``; adding it again restarts its ``group_expiry``."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        self._server_of(group).run(
            _GROUP_ADD, [wire.group_key(self.prefix, group)],
            [repr(time.time()), channel, int(math.ceil(self.group_expiry))])

    def group_discard(self, group, channel):
        """Remove ``channel`` from ``group`` if it is a member."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        self._server_of(group).execute(("ZREM", wire.group_key(self.prefix, group), channel))

    def group_channels(self, group):
        """The channels in ``group`` now, memberships older than ``group_expiry`` dropped."""
        self.valid_group_name(group)
        members = self._server_of(group).run(
            _GROUP_CHANNELS, [wire.group_key(self.prefix, group)], [repr(time.time() - self.group_expiry)])
        return [member.decode("utf8") for member in members]

    def send_group(self, group, message):
        """
        Send ``message`` to every channel in ``group``, one round trip per
        server after reading the members. A full member misses it (counted
        as ChannelFull, and logged at WARNING at most once per group per
        minute); nothing raises ChannelFull.
        """
        self.valid_group_name(group)
        message = self._checked(message)
        members = self.group_channels(group)
        if not members:
            return
        shared = self.codec.encode(message)
        # Per server: message and list keys, payloads, (capacity, payload number).
        batches = {}
        ordinary = next(self._send_turn) % self.ring_size
        keys = wire.message_keys(self.prefix, len(members))
        for channel, message_key in zip(members, keys):
            if "!" in channel:
                name = self.non_local_name(channel)
                index = self._index_of(name)
                own = dict(message)
                own[wire.CHANNEL_FIELD] = channel
                payload = self.codec.encode(own)
            else:
                name = channel
                index = self._index_of(name) if "?" in channel else ordinary
                payload = None
            batch = batches.get(index)
            if batch is None:
                batch = batches[index] = ([], [shared], [], [])
            batch[0].extend((message_key, self.prefix + name))
            if payload is not None:
                batch[1].append(payload)
            batch[2].extend((self.get_capacity(name), len(batch[1]) if payload is not None else 1))
            batch[3].append(channel)
        dropped = []
        for index, (batch_keys, payloads, per_message, channels) in batches.items():
            # The script's reply is 1 for each member it stored the message for, 0 for a full one.
            stored = self._servers[index].run(SEND, batch_keys, self._send_arguments(payloads, per_message),
                                              retry=False)
            dropped.extend(channel for channel, kept in zip(channels, stored) if not kept)
        self.group_sends.sent(group, len(members) - len(dropped), dropped)

    # The flush extension.

    def flush(self):
        """Delete every key under ``prefix`` and ``stats_prefix`` on every server."""
        patterns = [wire.glob_escape(self.prefix) + "*", wire.glob_escape(self.stats_prefix) + "*"]
        with self._prefetch_lock:
            self._prefetched.clear()
        for server in self._servers:
            server.run(_FLUSH, [], patterns)

    # The statistics extension.

    def global_statistics(self):
        """``messages_count`` and ``channel_full_count`` over every server (asgi_redis's counters)."""
        totals = {wire.MESSAGES_COUNT: 0, wire.CHANNEL_FULL_COUNT: 0}
        prefix = self.stats_prefix + wire.GLOBAL_STATISTICS + ":"
        for server in self._servers:
            counts = server.execute(("MGET", prefix + wire.MESSAGES_COUNT, prefix + wire.CHANNEL_FULL_COUNT))
            totals[wire.MESSAGES_COUNT] += int(counts[0] or 0)
            totals[wire.CHANNEL_FULL_COUNT] += int(counts[1] or 0)
        return totals

    def channel_statistics(self, channel):
        """
        ``messages_count`` and ``channel_full_count`` (over the last hour of
        activity), ``messages_pending`` and ``messages_max_age`` (whole
        seconds) of ``channel``; the channels behind one ``!`` count together.
        """
        self.valid_channel_name(channel)
        name = self.non_local_name(channel)
        servers = [self._server_of(name)] if ("!" in name or "?" in name) else self._servers
        prefix = self.stats_prefix + name + ":"
        totals = {wire.MESSAGES_COUNT: 0, wire.CHANNEL_FULL_COUNT: 0, "messages_pending": 0, "messages_max_age": 0}
        for server in servers:
            count, full, pending, ttl = server.run(
                _CHANNEL_STATISTICS,
                [prefix + wire.MESSAGES_COUNT, prefix + wire.CHANNEL_FULL_COUNT, self.prefix + name])
            totals[wire.MESSAGES_COUNT] += count
            totals[wire.CHANNEL_FULL_COUNT] += full
            totals["messages_pending"] += pending
            if ttl >= 0:
                totals["messages_max_age"] = max(totals["messages_max_age"], max(0, self.expiry - ttl))
        return totals

    # The twisted extension.

    def receive_twisted(self, channels):
        """
        A Deferred firing with what ``receive(channels, block=True)``
        returns; the blocking receive runs in the reactor's thread pool.
        """
        from twisted.internet import threads
        return threads.deferToThread(self.receive, channels, True)

    # Servers.

    def ping(self, timeout=PING_TIMEOUT):
        """
        Check that every server answers, within ``timeout`` seconds
        whatever they do: each is sent PING at once, on a new connection of
        its own (the layer's connections are left alone). RedisUnavailable
        naming the first server, in ``hosts`` order, that did not answer in
        time or could not (refused, wrong password or db, a TLS certificate
        not trusted, an ACL that denies the layer's keys, not Redis). For a
        start-up or health check.
        """
        check_positive_number("timeout", timeout)
        deadline = clock() + timeout
        outcomes = [None] * len(self._servers)
        # A key under each prefix: a server whose ACL denies the layer its keys refuses them.
        keys = (self.prefix + "ping", self.stats_prefix + "ping")

        def ping(index, server):
            try:
                # A little less than the timeout, so the thread has ended when ping() returns.
                server.ping(timeout * 0.9, keys)
                outcomes[index] = True
            except Exception as error:
                outcomes[index] = error
        # A thread each: a server that never answers holds up only its own,
        # which its socket timeouts end before the deadline.
        threads = [threading.Thread(target=ping, args=pair) for pair in enumerate(self._servers)]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join(max(deadline - clock(), 0))
        for server, outcome in zip(self._servers, list(outcomes)):
            if outcome is None:
                raise RedisUnavailable("cannot reach %s: no answer within %.1f s" % (server.subject(), timeout))
            if outcome is not True:
                raise outcome

    def consistent_hash(self, value):
        """The index of the server that ``value`` (a channel or group name) lives on."""
        return wire.consistent_hash(value, self.ring_size) if self.ring_size > 1 else 0

    def _index_of(self, name):
        return wire.consistent_hash(name, self.ring_size) if self.ring_size > 1 else 0

    def _server_of(self, name):
        return self._servers[self._index_of(name)]

    def connection(self, index):
        """A redis-py client for server ``index`` (0 to ``ring_size - 1``), as asgi_redis offers."""
        if not isinstance(index, six.integer_types) or not 0 <= index < self.ring_size:
            raise ValueError("there are %d Redis servers; %r is not an index of one" % (self.ring_size, index))
        return self._servers[index].client()

    def __str__(self):
        return "%s(hosts=%s)" % (type(self).__name__, self.hosts)


#: asgi_redis's other name for the layer, for ``asgiref.redis.ChannelLayer``.
ChannelLayer = RedisChannelLayer


def _perform(step):
    """Carry out a step of ``receive_steps`` other than Done, blocking; what to send it back."""
    if isinstance(step, Pause):
        time.sleep(step.seconds)
        return None
    try:
        if isinstance(step, Pipeline):
            return step.server.pipeline(step.commands, step.script)
        if step.script is None:
            return step.server.execute(step.keys)
        return step.server.run(step.script, step.keys, step.arguments, packed_keys=step.packed_keys)
    except RedisUnavailable as error:
        return error


def _text(what, value):
    if isinstance(value, bytes) and six.PY2:
        value = value.decode("utf8")
    if not isinstance(value, six.text_type):
        raise TypeError("%s must be text, not %s %r" % (what, type(value).__name__, value))
    return value


def _timeout(seconds):
    """A BLPOP timeout: whole seconds as an integer, else to the millisecond."""
    if seconds == int(seconds):
        return int(seconds)
    return "%.3f" % max(seconds, 0.001)


if not six.PY2:
    try:
        from .async_calls import receive_async, send_async
    except ImportError:
        # redis-py before 4.2 has no redis.asyncio: the layer stays synchronous.
        pass
    else:
        RedisChannelLayer.receive_async = receive_async
        RedisChannelLayer.send_async = send_async
        RedisChannelLayer.extensions = RedisChannelLayer.extensions + ["async"]
