"""
The Redis layer on Redis Cluster (Redis 7 or later), through redis-py's
cluster clients, which follow MOVED and ASK and refresh their slot map
after a failover.

    from asgiref.redis import RedisClusterChannelLayer

    layer = RedisClusterChannelLayer(hosts=["redis+cluster://10.0.0.1:6379/0"])

Needs redis-py 4.6 or later (``pip install ".[redis-cluster]"`` in a
checkout, Python 3.7 or later); this module imports on Python 2, where
constructing the layer says so. Its key layout is its own
(``asgiref.redis.cluster.wire``): processes of asgi_redis, which had no
cluster mode, cannot share it.
"""
from __future__ import absolute_import, unicode_literals

import collections
import importlib
import math
import re
import threading
import time

import redis
import six
from redis.exceptions import NoScriptError, RedisError, ResponseError

from ...base_layer import check_positive_number
from ...bridge.layer_calls import clock
from .. import wire
from ..connection import RedisUnavailable, Script, Server, Unconfirmed, _reason, pack_arguments
from ..layer import _PLANS_KEPT, CAPACITY, EXPIRY, GROUP_EXPIRY, PING_TIMEOUT, PREFETCH, PREFIX, STATS_PREFIX
from ..layer import RedisChannelLayer, _perform, _timeout
from ..receive_plan import Command, Done, Pause
from ..urls import redacted
from . import fanout as cluster_fanout, wire as cluster_wire
from .doorbells import Doorbells
from .seeds import seed_nodes
from .steps import FAILURES, PUT_BACK, RECEIVE, SEND, Subscribe, Wait

__all__ = ["RedisClusterChannelLayer"]

_GROUP_ADD = Script(wire.GROUP_ADD)
_GROUP_CHANNELS = Script(wire.GROUP_CHANNELS)
_CHANNEL_STATISTICS = Script(wire.CHANNEL_STATISTICS)

#: While the cluster cannot be reached, a blocked receive tries again this often.
_RECONNECT_PAUSE = 0.2
#: Seconds a take waits for the replicas with ``wait_for_replicas``.
REPLICA_TIMEOUT = 1.0
#: Keys deleted or read per round trip by ``flush`` and ``global_statistics``.
_BATCH = 1000


def cluster_support():
    """None if this redis-py runs the cluster layer, else what is missing, in a sentence."""
    version = getattr(redis, "__version__", "0")
    try:
        importlib.import_module("redis.cluster")
        if not six.PY2:
            importlib.import_module("redis.asyncio.cluster")
    except ImportError:
        return "redis-py %s has no cluster client" % version
    # 4.6.0 is the oldest tested: 4.3.6's cluster client failed to refresh its slots after a failover.
    if tuple(int(part) for part in re.findall(r"[0-9]+", version)[:2]) < (4, 6):
        return "redis-py %s's cluster client does not follow a failover" % version
    return None


class RedisClusterChannelLayer(RedisChannelLayer):
    """
    Channels, groups and statistics kept in a Redis Cluster (Redis 7 or
    later). Takes RedisChannelLayer's keywords; ``hosts`` are seed nodes,
    as ``redis+cluster://host:port/0`` (``rediss+cluster://`` for TLS),
    ``redis://``/``rediss://`` URLs or ``(host, port)`` pairs: the client
    finds the other nodes. ``connection_kwargs`` go to redis-py's cluster
    client.

    Every script touches the keys of one hash slot: a channel's list, its
    messages and its counters share the channel's slot (a process-specific
    channel's, its name up to the ``!``), and a group's keys the group's.
    ``send_group`` sends to each node's members in one round trip. A
    blocked receive over one slot waits in BLPOP; over several it waits on
    the lists' shard channels, which every send rings (SPUBLISH). A send
    retried after a lost reply stores nothing twice; what a master had not
    replicated when it died is lost.

    A message taken from a master that dies before its replica has the
    take can be delivered again by the replica that takes over. With
    ``wait_for_replicas=True`` it cannot: a receive hands out what it took
    only once every replica connected to the master has the take (Redis
    WAIT, up to REPLICA_TIMEOUT seconds); otherwise it puts the messages
    back at the head of their list and raises RedisUnavailable, and a
    blocked receive tries again until its ``receive_timeout``. Each take
    then costs a second round trip, and a master whose replicas lag
    hands out nothing meanwhile; ``receive_async`` runs its takes in the
    event loop's default executor.
    """

    def __init__(self, expiry=EXPIRY, hosts=None, prefix=PREFIX, group_expiry=GROUP_EXPIRY, capacity=CAPACITY,
                 channel_capacity=None, symmetric_encryption_keys=None, stats_prefix=STATS_PREFIX,
                 connection_kwargs=None, receive_timeout=None, max_message_size=None, wait_for_replicas=False):
        if not isinstance(wait_for_replicas, bool):
            raise TypeError("wait_for_replicas must be True or False, not %s %r"
                            % (type(wait_for_replicas).__name__, wait_for_replicas))
        #: Whether a receive hands out only takes every connected replica has.
        self.wait_for_replicas = wait_for_replicas
        missing = cluster_support()
        if missing:
            raise RuntimeError("RedisClusterChannelLayer needs redis-py 4.6 or later, with its cluster clients, "
                               "on Python 3.7 or later (%s): pip install \".[redis-cluster]\" "
                               "in a checkout" % missing)
        self._client = None
        self._client_lock = threading.Lock()
        # A Server per master, by node name, for the scripts' straight path.
        self._masters = {}
        self._send_keys = {}
        # A channel's packed send pieces (cluster_fanout.Member), by the name its keys are filed under.
        self._members = {}
        # A receive's list keys (a tuple per slot) as Redis receives them, packed once.
        self._packed_keys = {}
        super(RedisClusterChannelLayer, self).__init__(
            expiry=expiry,
            hosts=hosts,
            prefix=prefix,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
            symmetric_encryption_keys=symmetric_encryption_keys,
            stats_prefix=stats_prefix,
            connection_kwargs=connection_kwargs,
            receive_timeout=receive_timeout,
            max_message_size=max_message_size,
        )
        # One cluster, one client: connection(0) hands it out.
        self.ring_size = 1

    def _connect(self, hosts, kwargs):
        self.layout = cluster_wire.Layout(self.prefix, self.stats_prefix)
        self.hosts, self.seeds, url_kwargs = seed_nodes(hosts)
        #: What the cluster clients (blocking and asyncio) are made with, seed nodes aside.
        self.cluster_kwargs = dict(url_kwargs, **kwargs)
        return []

    def cluster(self):
        """The layer's redis-py RedisCluster client, made on first use (it connects to a seed to learn the slots)."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    from redis.cluster import ClusterNode, RedisCluster
                    try:
                        self._client = RedisCluster(
                            startup_nodes=[ClusterNode(host, port) for host, port in self.seeds],
                            **self.cluster_kwargs)
                    except FAILURES as error:
                        raise self.unavailable(error)
                client = self._client
        return client

    def unavailable(self, error):
        """A RedisUnavailable for ``error``, naming the cluster by its seeds."""
        if isinstance(error, RedisUnavailable):
            return error
        return RedisUnavailable("Redis Cluster %s is unavailable: %s" % (self._seeds_text(), error or type(error)))

    def _seeds_text(self):
        return "at " + ", ".join("%s:%d" % seed for seed in self.seeds)

    def run(self, script, keys, arguments):
        """
        Run ``script`` on the master of ``keys``' slot; loaded there first if
        it lacks it (NOSCRIPT). Straight to the master the client's slot map
        names, on a connection of this thread's; on any error there (a
        MOVED, ASK or TRYAGAIN, a lost connection) through the cluster client,
        which follows redirections and refreshes its map. Both scripts that
        change data are safe to run again: a send stores a message once, a
        receive takes it once.
        """
        client = self.cluster()
        server = self._master_of(client, keys[0])
        if server is not None:
            packed_keys = self._packed_keys.get(keys) if type(keys) is tuple else None
            if packed_keys is None:
                packed_keys = pack_arguments(keys)
                if type(keys) is tuple:
                    if len(self._packed_keys) >= _PLANS_KEPT:
                        self._packed_keys.clear()
                    self._packed_keys[keys] = packed_keys
            try:
                return server.run(script, keys, arguments, retry=False, packed_keys=packed_keys)
            except (RedisUnavailable, ResponseError):
                pass
        return self._run_through_client(client, script, keys, arguments)

    def _run_through_client(self, client, script, keys, arguments):
        arguments = list(keys) + list(arguments)
        try:
            try:
                return client.evalsha(script.sha, len(keys), *arguments)
            except NoScriptError:
                # EVAL runs it and keeps it for the next EVALSHA.
                return client.eval(script.source, len(keys), *arguments)
        except FAILURES as error:
            raise self.unavailable(error)

    def take(self, keys, arguments):
        """
        Run the receive script over ``keys`` (list keys of one slot): what
        it took, ``[list key, message, ...]``, or None. With
        ``wait_for_replicas``, only once every replica connected to the
        master has the take; if one does not within REPLICA_TIMEOUT, the
        messages go back to the head of their list and RedisUnavailable
        says so (as it does when the master cannot be reached). Any other
        error reply (an ACL user without ROLE or WAIT) is raised as Redis
        gave it.
        """
        if not self.wait_for_replicas:
            return self.run(RECEIVE, keys, arguments)
        client = self.cluster()
        for attempt in (1, 2):
            server = self._master_of(client, keys[0])
            try:
                if server is None:
                    raise RedisUnavailable("no master serves %s in the slot map" % keys[0])
                found, replicas, confirmed = server.run_replicated(RECEIVE, keys, arguments, REPLICA_TIMEOUT)
                break
            except Unconfirmed as refused:
                if not refused.reply:
                    raise refused.error
                raise type(refused.error)("%s; %s" % (refused.error, self._put_back(server, refused.reply)))
            except RedisUnavailable:
                # The master is lost (it may have taken something): learn the slots for the next try.
                self._learn_slots(client, keys[0])
                raise
            except FAILURES as error:
                # MOVED, ASK, TRYAGAIN or CLUSTERDOWN: nothing ran, so once more with the slots learnt again.
                self._learn_slots(client, keys[0])
                if attempt == 2:
                    raise self.unavailable(error)
        if confirmed < replicas:
            raise RedisUnavailable("%s: %d of its %d replicas had this receive's take within %s s; %s" % (
                server.subject(), confirmed, replicas, REPLICA_TIMEOUT, self._put_back(server, found)))
        return found

    def _put_back(self, server, found):
        """Put a take's messages (``[list key, message, ...]``) back at the head of their list; say how it went."""
        messages = found[1:]
        keys = [found[0]] + self.layout.message_keys(self.layout.channel_of(found[0]), len(messages))
        try:
            server.run(PUT_BACK, keys, [self._expiry_ms] + messages, retry=False)
        except (RedisUnavailable, ResponseError) as error:
            return "the messages it took (%d) are lost: putting them back failed (%s)" % (len(messages), error)
        return "the messages it took (%d) are back at the head of their list" % len(messages)

    def _learn_slots(self, client, key):
        # A read of ``key`` through the cluster client, which follows a
        # MOVED and, after a lost node, learns the slots again its own way,
        # as every call that falls back to it does. (Calling its
        # initialize() from here raced with its own refresh on another
        # thread: redis-py 5.0 raised RuntimeError in one of them.)
        try:
            client.execute_command("EXISTS", key)
        except FAILURES:
            # Unreachable for now: the next try learns them.
            pass

    def _master_of(self, client, key):
        """A Server for the master that the client's slot map gives ``key``, or None if it names none."""
        nodes = client.nodes_manager.slots_cache.get(cluster_wire.slot(_hash_tag(key)))
        if not nodes:
            return None
        pool = client.get_redis_connection(nodes[0]).connection_pool
        server = self._masters.get(nodes[0].name)
        if server is None or server.pool is not pool:
            server = self._masters[nodes[0].name] = Server(pool)
        return server

    def _execute(self, command):
        try:
            return self.cluster().execute_command(*command)
        except FAILURES as error:
            raise self.unavailable(error)

    # The ASGI API.

    def send(self, channel, message):
        """
        Store ``message`` on ``channel``: ChannelFull when the channel holds
        its capacity, MessageTooLarge over ``max_message_size``, TypeError for
        a bad name or value, RedisUnavailable when the cluster cannot be
        reached (a lost connection can hide whether it was stored; never stored
        twice).
        """
        name, payload, capacity = self._send_parts(channel, message)
        piece = self._member(name)
        digits = cluster_fanout.message_key_digits(1)
        client = self.cluster()
        server = self._master_of(client, piece.list_key)
        stored = None
        if server is not None:
            try:
                stored = server.execute(piece.head + digits + piece.tail + cluster_fanout.packed_arguments(
                    self, payload, capacity), retry=False, script=SEND)
            except (RedisUnavailable, ResponseError):
                server = None
        if server is None:
            # The same message key: a send that did run on the master stores nothing more.
            keys, arguments = cluster_fanout.send_call(self, piece, digits, payload, capacity)
            stored = self._run_through_client(client, SEND, keys, arguments)
        self.check_stored(stored, channel, capacity)

    def send_plan(self, channel, message):
        """``(keys, arguments, capacity)`` of the send script that stores ``message`` on ``channel``."""
        name, payload, capacity = self._send_parts(channel, message)
        keys, arguments = self._send_call(name, payload, capacity)
        return keys, arguments, capacity

    def _send_parts(self, channel, message):
        """The name ``channel``'s keys are filed under, ``message`` checked and encoded, and its capacity."""
        self.valid_channel_name(channel)
        message = self._checked(message)
        name = channel
        if "!" in channel:
            message[wire.CHANNEL_FIELD] = channel
            name = self.non_local_name(channel)
        return name, self.codec.encode(message), self.get_capacity(name)

    def _member(self, name):
        """The packed send pieces (cluster_fanout.Member) of the channel filed under ``name``."""
        piece = self._members.get(name)
        if piece is None:
            if len(self._members) >= cluster_fanout.PIECES_KEPT:
                self._members.clear()
            piece = self._members[name] = cluster_fanout.member(self.layout, SEND, name)
        return piece

    def _send_call(self, name, payload, capacity):
        layout = self.layout
        named = self._send_keys.get(name)
        if named is None:
            # The list and counters of a channel, worked out once per channel.
            if len(self._send_keys) >= _PLANS_KEPT:
                self._send_keys.clear()
            named = self._send_keys[name] = ([layout.channel_list(name)], layout.counters(name))
        keys = named[0] + layout.message_keys(name, 1) + named[1]
        return keys, [payload, capacity, self._expiry_ms, wire.CHANNEL_STATISTICS_EXPIRY,
                      wire.GLOBAL_STATISTICS_EXPIRY]

    def check_stored(self, stored, channel, capacity):
        """Raise ChannelFull unless the send script's reply ``stored`` says it stored the message."""
        if not stored:
            raise self.ChannelFull("channel %r is at its capacity of %d messages" % (channel, capacity))

    def receive(self, channels, block=False):
        """
        Take a message from one of ``channels`` and return ``(channel,
        message)``, or ``(None, None)``. With ``block``, wait up to
        ``receive_timeout`` seconds for one: in BLPOP when the channels
        share a slot, else on their doorbells. Each call starts at another
        channel, so a busy channel starves no other.
        """
        calls = _Calls(self)
        try:
            steps = self.receive_steps(channels, block)
            step = next(steps)
            while not isinstance(step, Done):
                step = steps.send(calls.perform(step))
            return step.result
        finally:
            calls.close()

    def receive_steps(self, channels, block, pipelines=True):
        """
        The receive algorithm without its I/O, for the blocking and the
        asyncio receive: a generator of steps (receive_plan's Command and
        Pause, this module's Subscribe and Wait), each to be sent back what
        it gave, and last a Done with ``(channel, message)``. It raises the
        RedisUnavailable that ends a receive. Whoever performs a Subscribe
        ends that subscription when the receive ends or fails.
        """
        plan = self._receive_plan(channels)
        batch = 1
        if len(plan) == 1 and len(plan[0]) == 1 and plan[0][0].endswith("!}"):
            # A process-specific channel: nobody else reads its list.
            batch = PREFETCH
            if self._prefetched:
                found = self._take_prefetched(plan[0][0].encode("utf8"))
                if found is not None:
                    yield Done(self._unpack(found))
        turn = next(self._receive_turn)
        if len(plan) > 1:
            shift = turn % len(plan)
            plan = plan[shift:] + plan[:shift]
        deadline = clock() + self.receive_timeout if block else None
        tries = plan
        subscribed = False
        while True:
            failure = None
            for keys in tries:
                # Each call starts at another channel: none starves the others.
                found = yield Command(None, RECEIVE, keys, (turn % len(keys), batch), None)
                if isinstance(found, RedisUnavailable):
                    failure = found
                elif found:
                    yield Done(self._unpack(found))
            tries = plan
            remaining = deadline - clock() if block else 0
            if remaining <= 0.001:
                if failure is not None:
                    raise failure
                yield Done((None, None))
            if failure is None and len(plan) == 1:
                keys = plan[0]
                shift = turn % len(keys)
                blpop = ("BLPOP",) + keys[shift:] + keys[:shift] + (_timeout(remaining),)
                failure = popped = yield Command(None, None, blpop, (), None)
                if popped and not isinstance(popped, RedisUnavailable):
                    failure = found = yield Command(None, RECEIVE, keys, (0, batch, popped[1], popped[0]), None)
                    if found and not isinstance(found, RedisUnavailable):
                        yield Done(self._unpack(found))
            elif failure is None and not subscribed:
                # Subscribed first, then the lists tried again: a send made
                # after that try rings a doorbell this receive hears.
                failure = yield Subscribe(plan)
                subscribed = failure is None
                if subscribed:
                    continue
            elif failure is None:
                rung = yield Wait(remaining)
                if not isinstance(rung, RedisUnavailable):
                    tries = [keys for keys in plan if rung.intersection(keys)]
                    continue
                failure = rung
            if isinstance(failure, RedisUnavailable):
                # Whoever performs the steps ends the subscription on a failure.
                subscribed = False
                remaining = deadline - clock()
                if remaining <= 0.001:
                    raise failure
                yield Pause(min(_RECONNECT_PAUSE, remaining))

    def _new_plan(self, channels):
        """The list keys of ``channels`` (checked names), a tuple per hash slot, in the order first met."""
        by_slot = collections.OrderedDict()
        for channel in channels:
            by_slot.setdefault(cluster_wire.slot(channel), []).append(self.layout.channel_list(channel))
        return [tuple(keys) for keys in by_slot.values()]

    def _channel_of(self, list_key):
        return self.layout.channel_of(list_key)

    # The groups extension.

    def group_add(self, group, channel):
        """Add ``channel`` to ``group``; adding it again restarts its ``group_expiry``."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        self.run(_GROUP_ADD, [self.layout.group(group)], [repr(time.time()), channel,
                                                          int(math.ceil(self.group_expiry))])

    def group_discard(self, group, channel):
        """Remove ``channel`` from ``group`` if it is a member."""
        self.valid_group_name(group)
        self.valid_channel_name(channel)
        self._execute(("ZREM", self.layout.group(group), channel))

    def group_channels(self, group):
        """The channels in ``group`` now, memberships older than ``group_expiry`` dropped."""
        self.valid_group_name(group)
        members = self.run(_GROUP_CHANNELS, [self.layout.group(group)], [repr(time.time() - self.group_expiry)])
        return [member.decode("utf8") for member in members]

    def send_group(self, group, message):
        """
        Send ``message`` to every channel in ``group``: after reading the
        members, one round trip per node, a send script per member, every
        node's written before any node's replies are read. A full member
        misses it (counted as ChannelFull); nothing raises ChannelFull.
        """
        self.valid_group_name(group)
        message = self._checked(message)
        members = self.group_channels(group)
        if not members:
            return
        shared = self.codec.encode(message)
        fanout = cluster_fanout.Fanout(self, SEND, len(members))
        for channel in members:
            if "!" in channel:
                name = self.non_local_name(channel)
                own = dict(message)
                own[wire.CHANNEL_FIELD] = channel
                payload = self.codec.encode(own)
            else:
                name, payload = channel, shared
            fanout.add(self._member(name), payload, self.get_capacity(name))
        fanout.run()

    def _through_client(self, client, script, calls):
        try:
            replies = self._pipelined(client, [(script.sha, keys, arguments) for keys, arguments in calls])
            unloaded = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if unloaded:
                again = self._pipelined(client, [(None, calls[index][0], calls[index][1]) for index in unloaded],
                                        script.source)
                for index, reply in zip(unloaded, again):
                    replies[index] = reply
        except FAILURES as error:
            raise self.unavailable(error)
        for reply in replies:
            if isinstance(reply, FAILURES):
                raise self.unavailable(reply)
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    @staticmethod
    def _pipelined(client, calls, source=None):
        pipe = client.pipeline()
        for sha, keys, arguments in calls:
            # EVAL when the node lost the script: it runs it and keeps it.
            call = ("EVALSHA", sha) if source is None else ("EVAL", source)
            pipe.execute_command(*(call + (len(keys),) + tuple(keys) + tuple(arguments)))
        return pipe.execute(raise_on_error=False)

    # The flush extension.

    def flush(self):
        """Delete every key under ``prefix`` and ``stats_prefix`` on every master."""
        with self._prefetch_lock:
            self._prefetched.clear()
        client = self.cluster()
        try:
            for prefix in (self.prefix, self.stats_prefix):
                batch = []
                for key in client.scan_iter(match=wire.glob_escape(prefix) + "*", count=_BATCH):
                    batch.append(key)
                    if len(batch) >= _BATCH:
                        self._unlink(client, batch)
                        batch = []
                self._unlink(client, batch)
        except FAILURES as error:
            raise self.unavailable(error)

    @staticmethod
    def _unlink(client, keys):
        pipe = client.pipeline()
        for key in keys:
            pipe.unlink(key)
        pipe.execute()

    # The statistics extension.

    def global_statistics(self):
        """``messages_count`` and ``channel_full_count`` over the whole cluster: every slot's counters added up."""
        totals = {wire.MESSAGES_COUNT: 0, wire.CHANNEL_FULL_COUNT: 0}
        client = self.cluster()
        try:
            keys = list(client.scan_iter(match=self.layout.global_counters_pattern(), count=_BATCH))
            for start in range(0, len(keys), _BATCH):
                pipe = client.pipeline()
                for key in keys[start:start + _BATCH]:
                    pipe.get(key)
                for key, value in zip(keys[start:start + _BATCH], pipe.execute()):
                    counter = key.decode("utf8").rpartition(":")[2]
                    if counter in totals:
                        totals[counter] += int(value or 0)
        except FAILURES as error:
            raise self.unavailable(error)
        return totals

    def channel_statistics(self, channel):
        """
        ``messages_count`` and ``channel_full_count`` (over the last hour of
        activity), ``messages_pending`` and ``messages_max_age`` (whole
        seconds) of ``channel``; the channels behind one ``!`` count together.
        """
        self.valid_channel_name(channel)
        name = self.non_local_name(channel)
        count, full, pending, ttl = self.run(
            _CHANNEL_STATISTICS, self.layout.counters(name)[:2] + [self.layout.channel_list(name)], [])
        return {wire.MESSAGES_COUNT: count, wire.CHANNEL_FULL_COUNT: full, "messages_pending": pending,
                "messages_max_age": max(0, self.expiry - ttl) if ttl >= 0 else 0}

    # The cluster.

    def ping(self, timeout=PING_TIMEOUT):
        """
        Check that the cluster answers, within ``timeout`` seconds: a new
        client of its own learns the slots from a seed and PINGs every
        master. RedisUnavailable saying why not. For a start-up or health check.
        """
        check_positive_number("timeout", timeout)
        started = clock()
        outcome = []

        def ping():
            from redis.cluster import ClusterNode, RedisCluster
            kwargs = dict(self.cluster_kwargs, socket_timeout=timeout * 0.9, socket_connect_timeout=timeout * 0.45)
            client = None
            try:
                client = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in self.seeds], **kwargs)
                client.ping(target_nodes=RedisCluster.PRIMARIES)
                outcome.append(None)
            except (RedisError,) + FAILURES as error:
                outcome.append(error)
            finally:
                if client is not None:
                    client.close()
        # A thread, so a cluster that never answers holds up only it.
        thread = threading.Thread(target=ping)
        thread.daemon = True
        thread.start()
        thread.join(timeout)
        if not outcome:
            raise RedisUnavailable("cannot reach Redis Cluster %s: no answer within %.1f s"
                                   % (self._seeds_text(), timeout))
        if outcome[0] is not None:
            raise RedisUnavailable("cannot reach Redis Cluster %s: %s"
                                   % (self._seeds_text(), _reason(outcome[0], clock() - started)))

    def __str__(self):
        return "%s(hosts=%s)" % (type(self).__name__, [redacted(url) for url in self.hosts])

    def consistent_hash(self, value):
        """0: the cluster is one server to the layer; ``asgiref.redis.cluster.wire.slot`` gives a name's slot."""
        return 0

    def connection(self, index):
        """The layer's RedisCluster client (``index`` must be 0), which routes each command itself."""
        if index != 0:
            raise ValueError("a Redis Cluster layer has one client, index 0, not %r" % (index,))
        return self.cluster()


def _hash_tag(key):
    """What Redis Cluster hashes of ``key``: the text between its first braces (every layer key has them)."""
    return key[key.index("{") + 1:key.index("}", key.index("{") + 1)]


class _Calls(object):
    """A blocking receive's I/O: its scripts and BLPOPs through the cluster client, and its doorbells."""

    def __init__(self, layer):
        self.layer = layer
        self.doorbells = None

    def perform(self, step):
        """Carry out ``step``; what to send back to the receive."""
        try:
            if isinstance(step, Subscribe):
                self.doorbells = Doorbells(self.layer, step.lists)
                return None
            if isinstance(step, Wait):
                return self.doorbells.wait(step.seconds)
            if isinstance(step, Pause):
                return _perform(step)
            if step.script is None:
                return self.layer._execute(step.keys)
            return self.layer.take(step.keys, step.arguments)
        except RedisUnavailable as error:
            self.close()
            return error

    def close(self):
        if self.doorbells is not None:
            self.doorbells.close()
            self.doorbells = None


if not six.PY2:
    # The asyncio calls need redis.asyncio.cluster, which cluster_support checks.
    try:
        from .async_calls import receive_async, send_async
    except ImportError:
        pass
    else:
        RedisClusterChannelLayer.receive_async = receive_async
        RedisClusterChannelLayer.send_async = send_async
