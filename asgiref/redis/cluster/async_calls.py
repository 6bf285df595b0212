"""
``receive_async`` and ``send_async`` for the cluster layer, on redis-py's
asyncio cluster client (``redis.asyncio.cluster``): the steps of
``RedisClusterChannelLayer.receive_steps`` performed without blocking the
event loop. Python 3 only. Each event loop gets a client of its own,
closed by ``asgiref.redis.close_clients``.
"""
from __future__ import absolute_import

import asyncio
import functools
import weakref

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import NoScriptError, ResponseError

from ..async_calls import _drop, _kept_if_cancelled, _keep_reply, _links_by_loop
from ..connection import RedisUnavailable
from ..receive_plan import Done, Pause
from .doorbells import push_reply
from .steps import FAILURES, SEND, Subscribe, Wait

#: Connections the asyncio client may open per node: each waiting receive holds one.
MAX_CONNECTIONS = 10000


async def receive_async(self, channels):
    """
    A coroutine: ``receive(channels, block=True)`` without blocking the
    event loop. Waits up to ``receive_timeout`` seconds, then returns
    ``(None, None)``; RedisUnavailable if the cluster stays unreachable
    that long. Cancelled while receiving from a process-specific channel
    alone, it loses nothing: what its round trip takes waits for the next
    receive there.
    """
    client = _client(self)
    doorbells = None
    steps = self.receive_steps(channels, True)
    try:
        step = next(steps)
        while not isinstance(step, Done):
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                if isinstance(step, Subscribe):
                    doorbells = _Doorbells(self, client)
                    await doorbells.open(step.lists)
                    reply = None
                elif isinstance(step, Wait):
                    reply = await doorbells.wait(step.seconds)
                elif step.script is None:
                    reply = await _execute(self, client, step.keys)
                else:
                    if self.wait_for_replicas:
                        # The take and its WAIT on one connection: the blocking path's, in a thread.
                        round_trip = asyncio.get_event_loop().run_in_executor(
                            None, self.take, step.keys, step.arguments)
                    else:
                        round_trip = _run(self, client, step.script, step.keys, step.arguments)
                    if step.arguments[1] > 1:
                        # A receive that takes a batch keeps it if cancelled.
                        round_trip = _kept_if_cancelled(round_trip, functools.partial(_keep_reply, self))
                    reply = await round_trip
            except RedisUnavailable as error:
                if doorbells is not None:
                    await doorbells.close()
                    doorbells = None
                reply = error
            step = steps.send(reply)
        return step.result
    finally:
        if doorbells is not None:
            await doorbells.close()


async def send_async(self, channel, message):
    """A coroutine: ``send(channel, message)`` without blocking the event loop, with its errors."""
    keys, arguments, capacity = self.send_plan(channel, message)
    self.check_stored(await _run(self, _client(self), SEND, keys, arguments), channel, capacity)


async def _run(layer, client, script, keys, arguments):
    arguments = list(keys) + list(arguments)
    try:
        try:
            return await client.evalsha(script.sha, len(keys), *arguments)
        except NoScriptError:
            return await client.eval(script.source, len(keys), *arguments)
    except FAILURES as error:
        raise layer.unavailable(error)


async def _execute(layer, client, command):
    try:
        return await client.execute_command(*command)
    except FAILURES as error:
        raise layer.unavailable(error)


class _Doorbells(object):
    """
    The shard channels of a receive's lists, subscribed to (SSUBSCRIBE) on
    their nodes, a connection of its own per node read by a task of its own.
    The replies are read as they come, without redis-py's PubSub, whose
    sharded messages differ between versions.
    """

    def __init__(self, layer, client):
        self.layer = layer
        self.client = client
        self.connections = []
        self.readers = []
        self.rung = set()
        self.error = None
        self.changed = asyncio.Event()

    async def open(self, lists):
        try:
            await self.client.initialize()
            by_node = {}
            for keys in lists:
                node = self.client.get_node_from_key(keys[0])
                if node is None:
                    raise RedisUnavailable("no master serves %s now" % keys[0])
                entry = by_node.get(node.name)
                if entry is None:
                    # No read timeout: the reader waits as long as the receive does.
                    kwargs = dict(node.connection_kwargs, socket_timeout=None)
                    entry = by_node[node.name] = [node.connection_class(**kwargs), 0]
                    self.connections.append(entry)
                    await entry[0].connect()
                # One SSUBSCRIBE per slot: a node refuses shard channels of several slots in one.
                await entry[0].send_command("SSUBSCRIBE", *keys)
                entry[1] += len(keys)
            confirmed = [asyncio.get_event_loop().create_future() for _ in self.connections]
            self.readers = [asyncio.ensure_future(self._read(entry, future))
                            for entry, future in zip(self.connections, confirmed)]
            # Every subscription confirmed, so that every send from now on rings.
            _, pending = await asyncio.wait(confirmed, timeout=self.layer.receive_timeout)
            if self.error is not None:
                raise self.error
            if pending:
                raise RedisUnavailable("the cluster did not confirm a receive's doorbells within %s s"
                                       % self.layer.receive_timeout)
        except (FAILURES + (ResponseError,)) as error:
            raise self.layer.unavailable(error)

    async def _read(self, entry, confirmed):
        connection = entry[0]
        try:
            while True:
                reply = await connection.read_response(**push_reply(connection))
                if isinstance(reply, ResponseError):
                    raise reply
                kind = reply[0].decode("ascii") if isinstance(reply[0], bytes) else reply[0]
                if kind == "ssubscribe":
                    entry[1] -= 1
                    if entry[1] == 0:
                        confirmed.set_result(None)
                elif kind == "smessage":
                    channel = reply[1]
                    self.rung.add(channel.decode("utf8") if isinstance(channel, bytes) else channel)
                    self.changed.set()
                elif kind == "sunsubscribe":
                    raise RedisUnavailable("a node gave up the slot of %r" % (reply[1],))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.error = error if isinstance(error, RedisUnavailable) else self.layer.unavailable(error)
            self.changed.set()
            if not confirmed.done():
                confirmed.set_result(None)

    async def wait(self, seconds):
        """The list keys rung within ``seconds`` (at once if some were rung already); empty if none."""
        if not self.rung and self.error is None:
            try:
                await asyncio.wait_for(self.changed.wait(), seconds)
            except asyncio.TimeoutError:
                pass
        if self.error is not None:
            raise self.error
        self.changed.clear()
        rung, self.rung = self.rung, set()
        return rung

    async def close(self):
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        for connection, _ in self.connections:
            # Its reader was cancelled mid-read: the connection is closed, not reused.
            await _drop(connection)
        self.connections = []


class _ClusterLink(object):
    """The layer's asyncio cluster client in one event loop, for ``close_clients``."""

    def __init__(self, client):
        self.client = client

    async def close(self):
        # aclose() came with redis-py 5.0.1; close() before it.
        await (getattr(self.client, "aclose", None) or self.client.close)()


def _client(layer):
    loop = asyncio.get_event_loop()
    by_layer = _links_by_loop.get(loop)
    if by_layer is None:
        by_layer = _links_by_loop[loop] = weakref.WeakKeyDictionary()
    links = by_layer.get(layer)
    if links is None:
        kwargs = dict(layer.cluster_kwargs)
        kwargs.setdefault("max_connections", MAX_CONNECTIONS)
        client = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in layer.seeds], **kwargs)
        links = by_layer[layer] = [_ClusterLink(client)]
    return links[0].client
