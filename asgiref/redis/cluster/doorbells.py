"""
The doorbells of a blocking receive over several hash slots: every send
publishes on its list's shard channel (SPUBLISH, in the list's slot), and
a receive that found nothing subscribes to its lists' channels and sleeps
on the sockets until one rings.
"""
from __future__ import absolute_import, unicode_literals

import select

from redis.exceptions import ConnectionError, ResponseError

from ...bridge.layer_calls import clock
from ..connection import RedisUnavailable, own_connection
from .steps import FAILURES


class Doorbells(object):
    """
    The shard channels of a receive's lists, subscribed to (SSUBSCRIBE) on
    the nodes that serve them, a connection of its own per node, until
    :meth:`close`. The replies are read as they come, without redis-py's
    PubSub, whose sharded messages differ between versions.
    """

    def __init__(self, layer, lists):
        self.layer = layer
        self.connections = []
        self.rung = set()
        # Subscriptions each connection has yet to confirm: {id(connection): count}.
        self.unconfirmed = {}
        client = layer.cluster()
        try:
            by_node = {}
            for keys in lists:
                node = client.get_node_from_key(keys[0])
                if node is None:
                    raise RedisUnavailable("no master serves %s now" % keys[0])
                connection = by_node.get(node.name)
                if connection is None:
                    pool = client.get_redis_connection(node).connection_pool
                    connection = by_node[node.name] = own_connection(pool)
                    self.connections.append(connection)
                    connection.connect()
                # One SSUBSCRIBE per slot: a node refuses shard channels of several slots in one.
                connection.send_command("SSUBSCRIBE", *keys)
                self.unconfirmed[id(connection)] = self.unconfirmed.get(id(connection), 0) + len(keys)
            # Every subscription confirmed, so that every send from now on rings.
            deadline = clock() + layer.receive_timeout
            for connection in self.connections:
                while self.unconfirmed[id(connection)] > 0:
                    if deadline - clock() <= 0 or not connection.can_read(timeout=deadline - clock()):
                        raise RedisUnavailable("%s:%s did not confirm a receive's doorbells within %s s"
                                               % (connection.host, connection.port, layer.receive_timeout))
                    self._read(connection)
        except BaseException as error:
            self.close()
            if isinstance(error, FAILURES) or isinstance(error, ResponseError):
                raise layer.unavailable(error)
            raise

    def wait(self, seconds):
        """The list keys rung within ``seconds`` (at once if some were rung already); empty if none."""
        deadline = clock() + seconds
        try:
            while True:
                for connection in self.connections:
                    # What the connection has read already, then what the socket holds.
                    while connection.can_read(timeout=0):
                        self._read(connection)
                if self.rung:
                    rung, self.rung = self.rung, set()
                    return rung
                remaining = deadline - clock()
                if remaining <= 0:
                    return set()
                select.select([connection._sock for connection in self.connections], [], [], remaining)
        except (FAILURES + (ResponseError, ValueError)) as error:
            raise self.layer.unavailable(error)

    def _read(self, connection):
        reply = connection.read_response(**push_reply(connection))
        if isinstance(reply, ResponseError):
            raise reply
        kind = reply[0].decode("ascii") if isinstance(reply[0], bytes) else reply[0]
        if kind == "ssubscribe":
            self.unconfirmed[id(connection)] -= 1
        elif kind == "smessage":
            channel = reply[1]
            self.rung.add(channel.decode("utf8") if isinstance(channel, bytes) else channel)
        elif kind == "sunsubscribe":
            # The node gave the slot away (a failover or resharding): try again on the new map.
            raise ConnectionError("a node gave up the slot of %r" % (reply[1],))

    def close(self):
        for connection in self.connections:
            connection.disconnect()
        self.connections = []


def push_reply(connection):
    """
    read_response's keywords that return a subscription's replies: on RESP3
    (redis-py 8's default) they are pushed, which redis-py reads past unless asked.
    """
    return {"push_request": True} if str(getattr(connection, "protocol", 2)) == "3" else {}
