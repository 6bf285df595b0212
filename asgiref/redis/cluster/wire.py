"""
What the cluster layer keeps in Redis Cluster: its key layout (its own;
asgi_redis had no cluster mode), the hash slot a name lives in, and the
scripts, each of which touches the keys of one slot.

Every key of a channel carries the channel's name as its hash tag, so they
share a slot: the list ``prefix{name}``, its messages ``prefix{name}:`` plus
32 hex digits, its counters ``stats_prefix{name}:messages_count`` (and
``:channel_full_count``). A process-specific channel ``name!local`` is
filed under ``name!``, so all of one process's reply channels share one
slot. A group is the sorted set ``prefix:group:{group}``. The global
counters are kept per slot, ``stats_prefix#global#{tag}:messages_count``
with ``tag`` a short name that hashes to the channel's slot, so that the
send script can count them; the global statistics add them up over the
masters. A send rings the shard channel ``prefix{name}`` (the list's own
name, so its slot) for receives that wait on several slots.
"""
from __future__ import absolute_import, unicode_literals

import binascii
import threading

import six

from .. import wire

#: Redis Cluster's number of hash slots.
SLOTS = 16384

_slot_tags = []
_slot_tags_lock = threading.Lock()


def slot(name):
    """The hash slot of a key whose hash tag is ``name`` (CRC16-XMODEM, as Redis Cluster)."""
    if isinstance(name, six.text_type):
        name = name.encode("utf8")
    return binascii.crc_hqx(name, 0) % SLOTS


def slot_tag(number):
    """A short text that hashes to slot ``number``: the global counters of that slot carry it."""
    if not _slot_tags:
        with _slot_tags_lock:
            if not _slot_tags:
                # The first whole numbers whose text falls in each slot (about
                # 110,000 tried, some 70 ms, once per process).
                tags = [None] * SLOTS
                missing = SLOTS
                candidate = 0
                while missing:
                    text = "%d" % candidate
                    found = slot(text)
                    if tags[found] is None:
                        tags[found] = text
                        missing -= 1
                    candidate += 1
                _slot_tags.extend(tags)
    return _slot_tags[number]


def check_prefix(what, prefix):
    """``prefix`` unless it holds a brace, which would take the hash tag's place in every key."""
    if "{" in prefix or "}" in prefix:
        raise ValueError("%s %r holds a brace; in Redis Cluster a key's first {...} picks its hash slot, "
                         "which the cluster layer sets itself" % (what, prefix))
    return prefix


class Layout(object):
    """The key names for one layer's ``prefix`` and ``stats_prefix``."""

    def __init__(self, prefix, stats_prefix):
        self.prefix = check_prefix("prefix", prefix)
        self.stats_prefix = check_prefix("stats_prefix", stats_prefix)

    def channel_list(self, name):
        """The list of a channel (a process-specific one by its name up to the ``!``)."""
        return "%s{%s}" % (self.prefix, name)

    def channel_of(self, list_key):
        """The channel name a list key (bytes) holds."""
        return list_key.decode("utf8")[len(self.prefix) + 1:-1]

    def message_keys(self, name, count):
        """``count`` fresh message key names in ``name``'s slot."""
        return wire.message_keys("%s{%s}:" % (self.prefix, name), count)

    def counters(self, name):
        """``name``'s messages_count and channel_full_count, then its slot's global ones."""
        tag = slot_tag(slot(name))
        return ["%s{%s}:%s" % (self.stats_prefix, name, wire.MESSAGES_COUNT),
                "%s{%s}:%s" % (self.stats_prefix, name, wire.CHANNEL_FULL_COUNT),
                "%s%s{%s}:%s" % (self.stats_prefix, wire.GLOBAL_STATISTICS, tag, wire.MESSAGES_COUNT),
                "%s%s{%s}:%s" % (self.stats_prefix, wire.GLOBAL_STATISTICS, tag, wire.CHANNEL_FULL_COUNT)]

    def global_counters_pattern(self):
        """A glob matching every slot's global counters."""
        return wire.glob_escape("%s%s{" % (self.stats_prefix, wire.GLOBAL_STATISTICS)) + "*"

    def group(self, group):
        """The sorted set of ``group``'s members."""
        return "%s:group:{%s}" % (self.prefix, group)


#: Store a message, once. KEYS: the channel list, the message key, the
#: four counters of Layout.counters. ARGV: the payload, the capacity,
#: expiry in ms, the counters' two lifetimes. Returns 1 if stored (or stored
#: already: a send retried after a lost reply stores nothing more), 0 if
#: the channel was full; both are counted. A stored message rings the
#: list's shard channel.
SEND = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 1
end
local function count(channel_counter, global_counter)
    redis.call('INCR', channel_counter)
    redis.call('EXPIRE', channel_counter, ARGV[4])
    redis.call('INCR', global_counter)
    redis.call('EXPIRE', global_counter, ARGV[5])
end
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then
    count(KEYS[4], KEYS[6])
    return 0
end
local expiry = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', expiry)
redis.call('RPUSH', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[1], expiry + 1000)
count(KEYS[3], KEYS[5])
redis.call('SPUBLISH', KEYS[1], '')
return 1
"""

# A taken message's key stays, emptied, until the message would have
# expired: a send retried after a failover finds it and stores nothing.
_TAKE = """
local function take(message_key)
    local content = redis.call('GET', message_key)
    if content == '' then
        return nil
    end
    if content then
        redis.call('SET', message_key, '', 'KEEPTTL')
    end
    return content
end
""" + wire.TAKE_MORE

#: wire.RECEIVE over lists of one slot, leaving taken messages' keys emptied.
RECEIVE = _TAKE + wire.RECEIVE_FROM_LISTS

#: Put messages a receive took back at the head of their list, first
#: first: KEYS: the list, then a fresh message key per message; ARGV: expiry
#: in ms, then the messages. Rings the list's shard channel, as a send does.
PUT_BACK = """
local expiry = tonumber(ARGV[1])
for i = #KEYS, 2, -1 do
    redis.call('SET', KEYS[i], ARGV[i], 'PX', expiry)
    redis.call('LPUSH', KEYS[1], KEYS[i])
end
redis.call('PEXPIRE', KEYS[1], expiry + 1000)
redis.call('SPUBLISH', KEYS[1], '')
return #KEYS - 1
"""
