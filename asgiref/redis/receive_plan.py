"""
The steps of the Redis layer's receive, shared by its blocking calls
(``asgiref.redis.layer``) and its asyncio calls
(``asgiref.redis.async_calls``): ``RedisChannelLayer.receive_steps`` yields
them, without doing any I/O, and each caller performs them its own way and
sends back what each gave. Also the scripts those steps and ``send`` run.
"""
from __future__ import absolute_import, unicode_literals

import collections

from . import wire
from .connection import Script

#: Stores messages on a channel (``send``, ``send_async``, ``send_group``).
SEND = Script(wire.SEND)
#: Takes the next message (or a batch) from the first channel that has one.
RECEIVE = Script(wire.RECEIVE)
#: Reads the message key a BLMOVE moved to a list of the receive's own.
RECEIVE_MOVED = Script(wire.RECEIVE_MOVED)
#: The server's version as a number (0 before Redis 7).
VERSION = Script("return redis.REDIS_VERSION_NUM or 0")

#: Run ``script`` on ``server`` with ``keys`` and ``arguments`` (``packed_keys``:
#: the keys packed once, or None); a script of None runs the command ``keys``
#: itself. Sent back its reply, or the RedisUnavailable it raised.
Command = collections.namedtuple("Command", "server script keys arguments packed_keys")
#: Send ``commands`` to ``server`` in one round trip (those that run a script
#: run ``script``). Sent back the list of replies, or the RedisUnavailable.
Pipeline = collections.namedtuple("Pipeline", "server commands script")
#: Sleep ``seconds`` (a server is unreachable); sent back None.
Pause = collections.namedtuple("Pause", "seconds")
#: The receive is over: ``result`` is its ``(channel, message)``; nothing is sent back.
Done = collections.namedtuple("Done", "result")
