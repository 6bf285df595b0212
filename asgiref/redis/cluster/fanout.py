"""
A group send on Redis Cluster: one send script per member (each on its
member's slot), packed from pieces worked out once per member, written to
every master before any reply is read, so that the masters run their
members' scripts at the same time.
"""
from __future__ import absolute_import, unicode_literals

import binascii
import collections
import os

from redis.exceptions import NoScriptError, ResponseError

from .. import wire
from ..connection import RedisUnavailable, pack_arguments, packed_command
from .steps import FAILURES

#: Members whose packed pieces a layer keeps (under a kilobyte each); past it they are worked out again.
PIECES_KEPT = 10000

# A message key's random part: 16 bytes as 32 hex digits.
_DIGITS = 32


class Member(collections.namedtuple("Member", "name list_key head tail")):
    """
    A channel's send script call, less its message key's random digits and
    its arguments: ``head`` ends with the message key's own prefix, ``tail``
    starts after its digits.
    """


def member(layout, script, name):
    """The :class:`Member` of ``name`` (a channel, a process-specific one by its name up to the ``!``)."""
    list_key = layout.channel_list(name)
    message_prefix = layout.message_keys(name, 1)[0][:-_DIGITS].encode("utf8")
    counters = layout.counters(name)
    # EVALSHA, the SHA, the key count, six keys, five arguments.
    head = (b"*14\r\n" + pack_arguments((b"EVALSHA", script.sha, 6, list_key))
            + b"$%d\r\n" % (len(message_prefix) + _DIGITS) + message_prefix)
    return Member(name, list_key, head, b"\r\n" + pack_arguments(counters))


def send_arguments(layer, payload, capacity):
    """The send script's arguments for ``payload`` (encoded) on a channel of ``capacity``."""
    return (payload, capacity, layer._expiry_ms, wire.CHANNEL_STATISTICS_EXPIRY, wire.GLOBAL_STATISTICS_EXPIRY)


def packed_arguments(layer, payload, capacity):
    """:func:`send_arguments` as Redis receives them."""
    # The last three are the layer's own: packed once per layer.
    tail = layer.__dict__.get("_packed_send_tail")
    if tail is None:
        tail = layer._packed_send_tail = pack_arguments(send_arguments(layer, b"", 0)[2:])
    return pack_arguments((payload, capacity)) + tail


def send_call(layer, piece, digits, payload, capacity):
    """The ``(keys, arguments)`` of a send to ``piece``'s channel with message key ``digits``, unpacked."""
    layout = layer.layout
    keys = [piece.list_key, layout.message_keys(piece.name, 1)[0][:-_DIGITS] + digits.decode("ascii")]
    return keys + layout.counters(piece.name), list(send_arguments(layer, payload, capacity))


def message_key_digits(count):
    """``count`` fresh random parts of message keys (bytes), as ``wire.message_keys`` makes them."""
    return binascii.hexlify(os.urandom(16 * count))


class Fanout(object):
    """
    The sends of one ``send_group``: ``add`` each member's, then ``run``.
    A send that fails on its master (a MOVED, ASK or TRYAGAIN, a lost
    connection) is run again by the layer through redis-py's cluster
    client with the same message key, so it stores the message once.
    """

    def __init__(self, layer, script, count):
        self.layer = layer
        self.script = script
        self.digits = message_key_digits(count)
        self.sends = []
        self._arguments = {}

    def add(self, piece, payload, capacity):
        """Send ``payload`` (encoded) to the member of ``piece`` (a :class:`Member`), of ``capacity``."""
        arguments = self._arguments.get((payload, capacity))
        if arguments is None:
            arguments = self._arguments[(payload, capacity)] = packed_arguments(self.layer, payload, capacity)
        start = _DIGITS * len(self.sends)
        self.sends.append((piece, self.digits[start:start + _DIGITS], payload, capacity, arguments))

    def call(self, index):
        """The ``(keys, arguments)`` of send ``index``, for redis-py's cluster client."""
        piece, digits, payload, capacity, _ = self.sends[index]
        return send_call(self.layer, piece, digits, payload, capacity)

    def run(self):
        """Every send's reply (1 stored, 0 full); RedisUnavailable if one could not run."""
        layer = self.layer
        client = layer.cluster()
        replies = [None] * len(self.sends)
        by_master = collections.OrderedDict()
        again = []
        for index, (piece, digits, _, _, arguments) in enumerate(self.sends):
            server = layer._master_of(client, piece.list_key)
            if server is None:
                again.append(index)
            else:
                by_master.setdefault(server, ([], []))
                indexes, commands = by_master[server]
                indexes.append(index)
                commands.append(piece.head + digits + piece.tail + arguments)
        written = []
        for server, (indexes, commands) in by_master.items():
            # Every master gets its calls before any reply is read: they run side by side.
            connection = _written(server, commands)
            if connection is None:
                again.extend(indexes)
            else:
                written.append((server, connection, indexes, commands))
        for server, connection, indexes, commands in written:
            read = _replies(server, connection, commands, self.script)
            if read is None:
                again.extend(indexes)
                continue
            for index, reply in zip(indexes, read):
                if isinstance(reply, ResponseError):
                    again.append(index)
                else:
                    replies[index] = reply
        if again:
            calls = [self.call(index) for index in again]
            for index, reply in zip(again, layer._through_client(client, self.script, calls)):
                replies[index] = reply
        return replies


def _written(server, commands):
    """The connection of this thread's to ``server`` that ``commands`` were written to, or None if it failed."""
    connection = server.connection()
    try:
        if connection._sock is None:
            connection.connect()
        connection.send_packed_command([b"".join(commands)])
        return connection
    except FAILURES:
        connection.disconnect()
        return None
    except BaseException:
        # Interrupted mid-write: a reply left unread would answer the next command.
        connection.disconnect()
        raise


def _replies(server, connection, commands, script):
    """
    The replies to ``commands``, written to ``connection`` already (an error
    reply is its ResponseError), or None if the connection failed. A node
    that lost the script gets it and runs those again.
    """
    try:
        replies = _read(connection, len(commands))
        unloaded = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if unloaded:
            # Those did not run: load the script, then run them.
            load = packed_command((b"SCRIPT", b"LOAD", script.source))
            connection.send_packed_command([load] + [commands[index] for index in unloaded])
            for index, reply in zip(unloaded, _read(connection, 1 + len(unloaded))[1:]):
                replies[index] = reply
        return replies
    except FAILURES + (RedisUnavailable,):
        connection.disconnect()
        return None
    except BaseException:
        connection.disconnect()
        raise


def _read(connection, count):
    replies = []
    for _ in range(count):
        try:
            replies.append(connection.read_response())
        except ResponseError as error:
            replies.append(error)
    return replies
