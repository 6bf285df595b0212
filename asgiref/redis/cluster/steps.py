"""
What the cluster layer's blocking and asyncio calls share: its two
scripts, the errors that mean the cluster cannot be reached, and the two
receive steps beyond ``asgiref.redis.receive_plan``'s (subscribing to a
receive's doorbells, waiting for one to ring).
"""
from __future__ import absolute_import, unicode_literals

import collections

import redis

from ..connection import Script
from . import wire

#: The send and receive scripts, on the cluster's key layout, and the one
#: that puts back what a receive took.
SEND = Script(wire.SEND)
RECEIVE = Script(wire.RECEIVE)
PUT_BACK = Script(wire.PUT_BACK)

#: What redis-py raises when the cluster, a node or a slot cannot be reached
#: (a MOVED or CLUSTERDOWN that outlived its retries included). RuntimeError
#: too: the cluster clients learn the slots again after a lost node by
#: iterating a dict of nodes that their calls on other threads (or tasks)
#: change, and then raise "dictionary changed size during iteration".
FAILURES = tuple(getattr(redis.exceptions, name) for name in (
    "ConnectionError", "TimeoutError", "ClusterError", "ClusterDownError", "TryAgainError", "AskError",
    "RedisClusterException") if hasattr(redis.exceptions, name)) + (OSError, RuntimeError)

#: Subscribe to the doorbells of ``lists`` (a tuple of list keys per slot); sent back None or the RedisUnavailable.
Subscribe = collections.namedtuple("Subscribe", "lists")
#: Wait up to ``seconds`` for a doorbell; sent back the set of list keys rung (empty: none) or the RedisUnavailable.
Wait = collections.namedtuple("Wait", "seconds")
