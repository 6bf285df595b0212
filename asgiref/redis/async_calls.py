"""
``receive_async`` and ``send_async`` for the Redis layers, on redis-py's
asyncio connections (``redis.asyncio``, redis-py 4.2 and later). Python 3
only: Python 2 never imports this module, and the layers list ``async``
only where it imports.

Commands go out packed by the layer, as its synchronous calls do, over
connections made by redis-py's pools: a receive borrows an idle one for
its round trip, and the sends to a server share one that a single task
writes to, so sends made while one is on its way leave together.
"""
from __future__ import absolute_import

import asyncio
import functools
import weakref

import redis.asyncio
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError, NoScriptError, ResponseError, TimeoutError

from .connection import RedisUnavailable, packed_command, packed_script_call, pool_options
from .receive_plan import RECEIVE, SEND, Done, Pause, Pipeline

_FAILURES = (ConnectionError, TimeoutError, OSError)
_CONNECTION_CLASSES = {"unix": UnixDomainSocketConnection, "tls": SSLConnection, "tcp": Connection}
#: Idle connections kept per server and loop for the next receives (as
#: many as redis-py's asyncio pool allowed in all); more are closed.
IDLE_KEPT = 100

# Each event loop gets connections of its own: redis.asyncio's connections
# belong to the loop that made them. {loop: {layer: [_Link per server]}}
_links_by_loop = weakref.WeakKeyDictionary()


async def receive_async(self, channels):
    """
    A coroutine: ``receive(channels, block=True)`` without blocking the
    event loop. Waits in Redis up to ``receive_timeout`` seconds, then
    returns ``(None, None)``; RedisUnavailable if a server stays unreachable
    that long. Cancelled while receiving from a process-specific channel
    alone, it loses nothing: what its round trip takes waits for the next
    receive there.
    """
    # Pipelines only where a cancelled round trip's messages are kept: one
    # cancelled between a BLMOVE and the read of what it moved would
    # otherwise strand the message key where no reader looks.
    steps = self.receive_steps(channels, True, pipelines=False)
    links = _links(self)
    step = next(steps)
    while not isinstance(step, Done):
        if isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
            step = steps.send(None)
            continue
        link = links[self._servers.index(step.server)]
        if isinstance(step, Pipeline):
            round_trip = link.execute_all([packed_command(command) for command in step.commands], step.script,
                                          raise_errors=True)
            kept = _keep_pipeline
        else:
            if step.script is None:
                command = packed_command(step.keys)
            else:
                command = packed_script_call(step.script, step.keys, step.arguments, step.packed_keys)
            round_trip = link.execute(command, step.script)
            # A receive that takes a batch (its second argument) keeps it if cancelled.
            kept = _keep_reply if step.script is RECEIVE and step.arguments[1] > 1 else None
        try:
            reply = await (_kept_if_cancelled(round_trip, functools.partial(kept, self)) if kept else round_trip)
        except RedisUnavailable as error:
            reply = error
        step = steps.send(reply)
    return step.result


async def send_async(self, channel, message):
    """
    A coroutine: ``send(channel, message)`` without blocking the event
    loop, with its errors. Sends to one server from one loop go out in the
    order they were made; those made while an earlier one is on its way
    share the next round trip.
    """
    server, keys, arguments, capacity = self.send_plan(channel, message)
    link = _links(self)[self._servers.index(server)]
    command = packed_script_call(SEND, keys, arguments)
    self.check_stored(await link.send(command, SEND), channel, capacity)


async def _kept_if_cancelled(round_trip, keep):
    """
    Await ``round_trip``, a receive that takes a batch, shielded: if the
    caller is cancelled, ``keep(reply)`` is called with its reply once it
    comes, so its messages wait for the next receive rather than being lost.
    """
    task = asyncio.ensure_future(round_trip)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(lambda done: done.cancelled() or done.exception() or keep(done.result()))
        raise


def _keep_reply(layer, found):
    if found:
        layer.keep_taken(found)


def _keep_pipeline(layer, replies):
    # BLMOVE's reply, then the script's, which holds the messages.
    _keep_reply(layer, replies[-1])


async def close_clients(layer):
    """
    Close the connections that ``receive_async`` and ``send_async`` opened
    for ``layer`` in the running event loop; await it before closing the loop.
    """
    for link in _links_by_loop.get(asyncio.get_event_loop(), {}).pop(layer, None) or ():
        await link.close()


class _Link(object):
    """
    One server of a layer, from one event loop: idle connections for
    receives (each waiting receive holds one), and the queue of sends with
    the connection they go out on.
    A send cancelled before its turn is not made; one cancelled after may
    still be stored (never twice).
    """

    def __init__(self, client, server):
        self._client = client
        self._server = server
        self._idle = []
        self._sending = None
        self._queue = []
        self._flusher = None

    async def execute(self, command, script):
        """The reply to ``command`` (packed), which runs ``script`` if not None, over an idle connection."""
        return (await self.execute_all([command], script, raise_errors=True))[0]

    async def execute_all(self, commands, script, raise_errors=False):
        """
        The replies to ``commands`` (packed), sent at once over an idle
        connection; those that run a script run ``script``. An error reply
        is its ResponseError, or with ``raise_errors`` is raised.
        """
        connection = self._idle.pop() if self._idle else self._client.connection_pool.make_connection()
        try:
            replies = await self._exchange(connection, commands, script)
        except BaseException:
            # Failed or cancelled mid-call: a reply left unread would answer the next command.
            await _drop(connection)
            raise
        if len(self._idle) < IDLE_KEPT:
            self._idle.append(connection)
        else:
            await connection.disconnect()
        for reply in replies if raise_errors else ():
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    def send(self, command, script):
        """A future of the reply to ``command`` (packed), which runs ``script``."""
        future = asyncio.get_event_loop().create_future()
        self._queue.append((command, future))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush(script))
        return future

    async def close(self):
        connections, self._idle = self._idle, []
        if self._sending is not None:
            connections.append(self._sending)
        for connection in connections:
            await connection.disconnect()
        pool = self._client.connection_pool
        await pool.disconnect()
        # A Sentinel's master client holds the sentinels' clients too.
        for sentinel in getattr(getattr(pool, "sentinel_manager", None), "sentinels", ()):
            await sentinel.connection_pool.disconnect()

    async def _flush(self, script):
        try:
            while self._queue:
                batch = [(command, future) for command, future in self._queue if not future.cancelled()]
                self._queue = []
                if not batch:
                    continue
                if self._sending is None:
                    self._sending = self._client.connection_pool.make_connection()
                try:
                    replies = await self._exchange(self._sending, [command for command, _ in batch], script)
                except RedisUnavailable as error:
                    await _drop(self._sending)
                    replies = [error] * len(batch)
                except BaseException:
                    # Cancelled (the loop is closing): the connection may hold unread replies.
                    await _drop(self._sending)
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), reply in zip(batch, replies):
                    if future.done():
                        continue
                    if isinstance(reply, Exception):
                        future.set_exception(reply)
                    else:
                        future.set_result(reply)
        finally:
            self._flusher = None

    async def _exchange(self, connection, commands, script):
        """Send ``commands`` at once; their replies, an error reply as its ResponseError."""
        try:
            replies = await _round_trip(connection, commands)
            unloaded = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if unloaded:
                # The server lost the script: those commands did not run, so load it and run them.
                load = packed_command((b"SCRIPT", b"LOAD", script.source))
                again = await _round_trip(connection, [load] + [commands[index] for index in unloaded])
                for index, reply in zip(unloaded, again[1:]):
                    replies[index] = reply
            return replies
        except _FAILURES as error:
            raise self._server.unavailable(error)


async def _round_trip(connection, commands):
    if not connection.is_connected:
        # As redis-py's pool does: a Sentinel connection asks the sentinels
        # for the master only in connect().
        await connection.connect()
    await connection.send_packed_command(commands)
    replies = []
    for _ in commands:
        try:
            replies.append(await connection.read_response())
        except ResponseError as error:
            replies.append(error)
    return replies


async def _drop(connection):
    """Close ``connection`` without waiting for the server to see it closed (redis-py 4.3 always waits)."""
    try:
        closing = connection.disconnect(nowait=True)
    except TypeError:
        closing = connection.disconnect()
    await closing


def _links(layer):
    loop = asyncio.get_event_loop()
    by_layer = _links_by_loop.get(loop)
    if by_layer is None:
        by_layer = _links_by_loop[loop] = weakref.WeakKeyDictionary()
    links = by_layer.get(layer)
    if links is None:
        clients = _make_clients(layer)
        links = by_layer[layer] = [_Link(client, server) for client, server in zip(clients, layer._servers)]
    return links


def _make_clients(layer):
    kwargs = layer.connection_kwargs
    if getattr(layer, "services", None) is not None and hasattr(layer, "_sentinel"):
        from redis.asyncio.sentinel import Sentinel
        sentinel = Sentinel(layer.hosts, sentinel_kwargs=layer.sentinel_kwargs, **kwargs)
        return [sentinel.master_for(service) for service in layer.services]
    clients = []
    for url in layer.hosts:
        kind, options = pool_options(url, layer.server_kwargs(url))
        pool = redis.asyncio.ConnectionPool(connection_class=_CONNECTION_CLASSES[kind], **options)
        clients.append(redis.asyncio.Redis(connection_pool=pool))
    return clients
