"""
``receive_async`` for the Redis layers, on redis-py's asyncio client
(``redis.asyncio``, redis-py 4.2 and later). Python 3 only: Python 2 never
imports this module, and the layers list ``async`` only where it imports.
"""
from __future__ import absolute_import

import asyncio
import weakref

import redis.asyncio
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from .redis_connection import RedisUnavailable

_FAILURES = (ConnectionError, TimeoutError, OSError)

# Each event loop gets clients of its own: redis.asyncio's connections
# belong to the loop that made them.
_clients_by_loop = weakref.WeakKeyDictionary()


async def receive_async(self, channels):
    """
    A coroutine: ``receive(channels, block=True)`` without blocking the
    event loop. Waits in Redis up to ``receive_timeout`` seconds, then
    returns ``(None, None)``; RedisUnavailable if a server stays unreachable
    that long.
    """
    from .redis import DONE
    # No pipelines: a coroutine cancelled between a BLMOVE and the read of
    # what it moved would strand the message key where no reader looks.
    steps = self.receive_steps(channels, True, pipelines=False)
    clients = _clients(self)
    step = next(steps)
    while step[0] != DONE:
        step = steps.send(await _perform(step, clients, self._servers))
    return step[1]


async def _perform(step, clients, servers):
    from .redis import PAUSE
    if step[0] == PAUSE:
        await asyncio.sleep(step[1])
        return None
    _, server, script, keys, args, _ = step
    command = keys if script is None else ("EVALSHA", script.sha, len(keys)) + tuple(keys) + tuple(args)
    try:
        return await _execute(clients[servers.index(server)], server, command, script)
    except RedisUnavailable as error:
        return error


async def _execute(client, server, command, script):
    try:
        try:
            return await client.execute_command(*command)
        except NoScriptError:
            # The server lost its scripts: this one did not run, so load and run it.
            await client.execute_command("SCRIPT", "LOAD", script.source)
            return await client.execute_command(*command)
    except _FAILURES as error:
        raise server.unavailable(error)


async def close_clients(layer):
    """
    Close the connections that ``receive_async`` opened for ``layer`` in
    the running event loop; await it before closing the loop.
    """
    by_layer = _clients_by_loop.get(asyncio.get_event_loop())
    for client in (by_layer.pop(layer, None) if by_layer is not None else None) or ():
        await client.connection_pool.disconnect()
        # A Sentinel's master client holds the sentinels' clients too.
        for sentinel in getattr(getattr(client.connection_pool, "sentinel_manager", None), "sentinels", ()):
            await sentinel.connection_pool.disconnect()


def _clients(layer):
    loop = asyncio.get_event_loop()
    by_layer = _clients_by_loop.get(loop)
    if by_layer is None:
        by_layer = _clients_by_loop[loop] = weakref.WeakKeyDictionary()
    clients = by_layer.get(layer)
    if clients is None:
        clients = by_layer[layer] = _make_clients(layer)
    return clients


def _make_clients(layer):
    kwargs = layer.connection_kwargs
    if getattr(layer, "services", None) is not None and hasattr(layer, "_sentinel"):
        from redis.asyncio.sentinel import Sentinel
        sentinel_kwargs = dict((key, value) for key, value in kwargs.items() if key.startswith("socket_"))
        sentinel = Sentinel(layer.hosts, sentinel_kwargs=sentinel_kwargs, **kwargs)
        return [sentinel.master_for(service) for service in layer.services]
    return [redis.asyncio.Redis.from_url(url, **kwargs) for url in layer.hosts]
