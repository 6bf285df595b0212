"""
What asgi_redis 1.4 keeps in Redis, so that its processes and ours share
one deployment: key names, the shard a name hashes to, the encoding of a
message (msgpack, optionally Fernet), and the server-side scripts that
read and write those keys.

A message lives in a key of its own, ``prefix`` plus 32 random hex digits,
that expires after ``expiry``; a channel is a list of such keys,
``prefix`` plus the channel name (a process-specific name up to its ``!``;
the whole name then travels in the message as ``__asgi_channel__``). A
group is a sorted set ``prefix + ":group:" + group`` of channel names
scored by the time they were added. Counters live in
``stats_prefix + channel + ":messages_count"`` (and ``:channel_full_count``)
and in the same under ``#global#``.
"""
from __future__ import absolute_import, unicode_literals

import base64
import binascii
import hashlib
import os

import msgpack
import six

#: The key in a message that carries a process-specific channel's full name.
CHANNEL_FIELD = "__asgi_channel__"
#: Stands for the channel in the names of the global counters.
GLOBAL_STATISTICS = "#global#"
MESSAGES_COUNT = "messages_count"
CHANNEL_FULL_COUNT = "channel_full_count"
#: How long counters live after their last change, in seconds.
CHANNEL_STATISTICS_EXPIRY = 3600
GLOBAL_STATISTICS_EXPIRY = 86400
#: A Fernet token is accepted this many seconds past the message expiry.
DECRYPT_GRACE = 10


def consistent_hash(name, ring_size):
    """The shard (0 to ``ring_size - 1``) that ``name`` lives on: its CRC-32, kept to 12 bits, scaled."""
    if isinstance(name, six.text_type):
        name = name.encode("utf8")
    return int((binascii.crc32(name) & 0xfff) / (4096 / float(ring_size)))


def group_key(prefix, group):
    """The sorted set that holds ``group``'s members."""
    return "%s:group:%s" % (prefix, group)


def message_keys(prefix, count):
    """``count`` fresh message key names: ``prefix`` and 32 random hex digits each."""
    digits = binascii.hexlify(os.urandom(16 * count)).decode("ascii")
    return [prefix + digits[start:start + 32] for start in range(0, 32 * count, 32)]


def fernet_key(key):
    """The Fernet key asgi_redis derives from a configured key: the URL-safe base64 of its SHA-256."""
    if isinstance(key, six.text_type):
        key = key.encode("utf8")
    return base64.urlsafe_b64encode(hashlib.sha256(key).digest())


class Codec(object):
    """Turns messages into the bytes stored in Redis and back; encrypts when given keys."""

    def __init__(self, symmetric_encryption_keys=None, expiry=60):
        self.crypter = None
        self.ttl = int(expiry) + DECRYPT_GRACE
        if symmetric_encryption_keys:
            if isinstance(symmetric_encryption_keys, (six.text_type, bytes)):
                raise ValueError("symmetric_encryption_keys must be a list of keys, not one key")
            try:
                from cryptography.fernet import Fernet, MultiFernet
            except ImportError:
                raise ValueError(
                    "symmetric_encryption_keys needs the cryptography package: "
                    "pip install \".[redis-encryption]\" in a checkout")
            # The first key encrypts; every key decrypts, so keys can be rotated.
            self.crypter = MultiFernet([Fernet(fernet_key(key)) for key in symmetric_encryption_keys])

    def encode(self, message):
        """The stored bytes of ``message`` (a dict of ASGI types)."""
        data = msgpack.packb(message, use_bin_type=True)
        if self.crypter is not None:
            data = self.crypter.encrypt(data)
        return data

    def decode(self, data):
        """The message that ``data`` holds; InvalidToken if it is encrypted with none of our keys."""
        if self.crypter is not None:
            data = self.crypter.decrypt(data, self.ttl)
        return msgpack.unpackb(data, raw=False)


# The scripts. Each runs atomically on one server: nothing else runs between
# a capacity check and the store, or between a pop and the read of the
# message it names, so no message is stored past capacity or read twice.

#: Store messages. KEYS: a (message key, channel list) pair per message.
#: ARGV: expiry in ms, the length of ``prefix``, ``stats_prefix``, the
#: counters' two lifetimes, how many distinct payloads follow, the payloads,
#: then (capacity, payload index) per message. Returns per message 1 if
#: stored, 0 if the channel was full; both are counted.
SEND = """
local expiry = tonumber(ARGV[1])
local prefix_length = tonumber(ARGV[2])
local stats_prefix = ARGV[3]
local payloads = tonumber(ARGV[6])
local results = {}
local function count(channel, name)
    local key = stats_prefix .. channel .. ':' .. name
    redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[4])
    key = stats_prefix .. '#global#:' .. name
    redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[5])
end
for i = 1, #KEYS / 2 do
    local message_key = KEYS[2 * i - 1]
    local list = KEYS[2 * i]
    local capacity = tonumber(ARGV[6 + payloads + 2 * i - 1])
    local channel = string.sub(list, prefix_length + 1)
    if redis.call('LLEN', list) >= capacity then
        count(channel, 'channel_full_count')
        results[i] = 0
    else
        redis.call('SET', message_key, ARGV[6 + tonumber(ARGV[6 + payloads + 2 * i])], 'PX', expiry)
        redis.call('RPUSH', list, message_key)
        redis.call('PEXPIRE', list, expiry + 1000)
        count(channel, 'messages_count')
        results[i] = 1
    end
end
return results
"""

#: Lua: ``take_more(found, limit)``, which takes messages from the list
#: ``found[1]`` names into ``found`` until it holds ``limit`` of them, with
#: the ``take(message_key)`` the script defines before it.
TAKE_MORE = """
local function take_more(found, limit)
    while #found <= limit do
        local message_key = redis.call('LPOP', found[1])
        if not message_key then
            break
        end
        local content = take(message_key)
        if content then
            found[#found + 1] = content
        end
    end
    return found
end
"""

# Both receive scripts take a batch size, ARGV[1] of RECEIVE_MOVED and
# ARGV[2] of RECEIVE: having found a message, they take up to that many in
# all from its list. Only a process-specific channel's receiver asks for
# more than one: nobody else reads that list, so it starves no one.
TAKE = """
local function take(message_key)
    local content = redis.call('GET', message_key)
    if content then
        redis.call('DEL', message_key)
    end
    return content
end
""" + TAKE_MORE

#: RECEIVE without its ``take`` and ``take_more`` (TAKE's), for a layer that takes its own way.
RECEIVE_FROM_LISTS = """
local limit = tonumber(ARGV[2])
if ARGV[3] then
    local content = take(ARGV[3])
    if content then
        return take_more({ARGV[4], content}, limit)
    end
end
local count = #KEYS
local lists = KEYS
local start = tonumber(ARGV[1]) % count
if start > 0 then
    lists = {}
    for i = 1, count do
        lists[i] = KEYS[(start + i - 1) % count + 1]
    end
end
if (redis.REDIS_VERSION_NUM or 0) >= 0x070000 then
    local lmpop = {'LMPOP', count}
    for i = 1, count do
        lmpop[i + 2] = lists[i]
    end
    lmpop[count + 3] = 'LEFT'
    while true do
        local popped = redis.call(unpack(lmpop))
        if not popped then
            return nil
        end
        local content = take(popped[2][1])
        if content then
            return take_more({popped[1], content}, limit)
        end
    end
end
for i = 1, count do
    while true do
        local message_key = redis.call('LPOP', lists[i])
        if not message_key then
            break
        end
        local content = take(message_key)
        if content then
            return take_more({lists[i], content}, limit)
        end
    end
end
return nil
"""

#: Take the first live message from the channel lists KEYS, starting at
#: the ARGV[1]-th (from 0) and going round, and up to ARGV[2] in all from
#: its list; a message key whose content expired is skipped. ARGV[3], when
#: given: a message key a BLPOP already took from list ARGV[4], tried
#: first. Redis 7 pops from all the lists in one LMPOP. Returns {channel
#: list, content, ...} or nil.
RECEIVE = TAKE + RECEIVE_FROM_LISTS

#: Take the message whose key a BLMOVE moved from channel list KEYS[2] to
#: the list KEYS[1], and up to ARGV[1] in all from KEYS[2]; an expired one
#: is skipped. Returns {KEYS[2], content, ...} or nil.
RECEIVE_MOVED = TAKE + """
while true do
    local message_key = redis.call('LPOP', KEYS[1])
    if not message_key then
        return nil
    end
    local content = take(message_key)
    if content then
        return take_more({KEYS[2], content}, tonumber(ARGV[1]))
    end
end
"""

#: Add ARGV[2] to group KEYS[1] at time ARGV[1]; the group lives ARGV[3] s.
GROUP_ADD = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
"""

#: Drop memberships of group KEYS[1] older than ARGV[1]; return the rest.
GROUP_CHANNELS = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""

#: One channel's counters on one server. KEYS: its two counters, its list.
#: Returns {messages_count, channel_full_count, pending, TTL of the oldest}.
CHANNEL_STATISTICS = """
local oldest = redis.call('LINDEX', KEYS[3], 0)
local ttl = -2
if oldest then
    ttl = redis.call('TTL', oldest)
end
return {tonumber(redis.call('GET', KEYS[1]) or 0), tonumber(redis.call('GET', KEYS[2]) or 0),
        redis.call('LLEN', KEYS[3]), ttl}
"""

#: Delete every key matching each glob in ARGV.
FLUSH = """
for _, pattern in ipairs(ARGV) do
    local keys = redis.call('KEYS', pattern)
    for i = 1, #keys, 5000 do
        redis.call('DEL', unpack(keys, i, math.min(i + 4999, #keys)))
    end
end
"""


def glob_escape(text):
    """``text`` as a Redis glob that matches only itself."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
