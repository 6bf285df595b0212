"""
``receive_async`` for the Redis layers, on redis-py's asyncio client
(``redis.asyncio``, redis-py 4.2 and later). Python 3 only: Python 2 never
imports this module, and the layers list ``async`` only where it imports.
"""
from __future__ import absolute_import

import asyncio
import time
import weakref

import redis.asyncio
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from .redis_connection import RedisUnavailable

_clock = time.monotonic
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
    from . import redis as layers
    self.valid_channel_names(channels, receive=True)
    plan = self._receive_plan(channels)
    clients = _clients(self)
    servers = self._servers
    deadline = _clock() + self.receive_timeout
    turn = 0
    while True:
        failure = None
        for server, keys in plan:
            client = clients[servers.index(server)]
            try:
                found = await _run(client, server, layers._RECEIVE, keys, ())
            except RedisUnavailable as error:
                failure = error
                continue
            if found:
                return self._unpack(found)
        remaining = deadline - _clock()
        if remaining <= 0.001:
            if failure is not None:
                raise failure
            return None, None
        if failure is not None:
            await asyncio.sleep(min(layers._RECONNECT_PAUSE, remaining))
            continue
        server, keys = plan[turn % len(plan)]
        client = clients[servers.index(server)]
        turn += 1
        wait = remaining if len(plan) == 1 else min(remaining, layers.SHARD_SLICE)
        try:
            popped = await _call(client, server, "BLPOP", *(list(keys) + [layers._timeout(wait)]))
            if popped:
                found = await _run(client, server, layers._RECEIVE, keys, (popped[1], popped[0]))
                if found:
                    return self._unpack(found)
        except RedisUnavailable:
            if deadline - _clock() <= 0.001:
                raise
            await asyncio.sleep(min(layers._RECONNECT_PAUSE, max(0, deadline - _clock())))


async def _call(client, server, *command):
    try:
        return await client.execute_command(*command)
    except _FAILURES as error:
        raise server.unavailable(error)


async def _run(client, server, script, keys, args):
    command = ("EVALSHA", script.sha, len(keys)) + tuple(keys) + tuple(args)
    try:
        return await _call(client, server, *command)
    except NoScriptError:
        await _call(client, server, "SCRIPT", "LOAD", script.source)
        return await _call(client, server, *command)


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
