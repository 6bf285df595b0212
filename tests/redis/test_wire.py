"""
The Redis layer against what asgi_redis 1.4.3 wrote into Redis (the
recorded fixtures in fixtures/asgi_redis_1_4): it receives those messages,
and what it writes for the same calls is the same keys, bytes and shards.
"""
from __future__ import absolute_import, unicode_literals

import base64
import hashlib
import io
import json
import os
import re
import time

import pytest
import six

from tests.fixtures.asgi_redis_1_4.sample import message as sample_message
from tests.redis_servers import redis_servers  # noqa: F401 (a fixture; it skips or fails without Redis)

try:
    import msgpack
    import redis
    from asgiref.redis import RedisChannelLayer
except ImportError:
    msgpack = redis = RedisChannelLayer = None

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "asgi_redis_1_4")
with io.open(os.path.join(FIXTURES, "wire.json"), encoding="utf-8") as recorded:
    CASES = json.load(recorded)["cases"]
ENCRYPTION_KEY = "fixture-secret"
# The fixtures were recorded once: a Fernet token older than the layer's
# expiry (plus a grace) is refused, and a membership older than
# group_expiry is dropped, so layers that read them wait ten years.
DECADE = 10 * 365 * 86400


def clients(ports):
    return [redis.StrictRedis(host="127.0.0.1", port=port) for port in ports]


def layer_on(ports, **options):
    return RedisChannelLayer(hosts=[("127.0.0.1", port) for port in ports], **options)


def load(case, ports):
    """Put a case's keys back into empty servers, as asgi_redis left them."""
    for client, keys in zip(clients(ports), CASES[case]["servers"]):
        client.flushall()
        for key, entry in keys.items():
            if entry["type"] == "string":
                client.set(key, base64.b64decode(entry["value"]))
            elif entry["type"] == "list":
                client.rpush(key, *entry["value"])
            else:
                for member, score in entry["value"]:
                    client.execute_command("ZADD", key, score, member)
            client.expire(key, entry["ttl"])


def dump(ports):
    """Every key of each server now, in the fixtures' layout."""
    servers = []
    for client in clients(ports):
        keys = {}
        for key in client.keys("*"):
            kind = client.type(key).decode("ascii")
            if kind == "string":
                value = base64.b64encode(client.get(key)).decode("ascii")
            elif kind == "list":
                value = [item.decode("utf8") for item in client.lrange(key, 0, -1)]
            else:
                value = [[member.decode("utf8"), score] for member, score in client.zrange(key, 0, -1, withscores=True)]
            keys[key.decode("utf8")] = {"type": kind, "value": value, "ttl": client.ttl(key)}
        servers.append(keys)
    return servers


def logical(keys, prefix):
    """
    One server's keys with each message key folded into the list that names
    it (message keys are random), after checking its name and lifetime:
    {key: (type, value)} and {key: ttl}.
    """
    message_key = re.compile(re.escape(prefix) + "[0-9a-f]{32}$")
    contents = {}
    for key, entry in keys.items():
        if message_key.match(key):
            assert entry["type"] == "string"
            contents[key] = (entry["value"], entry["ttl"])
    folded, lifetimes = {}, {}
    for key, entry in keys.items():
        if key in contents:
            continue
        if entry["type"] == "list":
            assert all(item in contents for item in entry["value"])
            value = [contents[item][0] for item in entry["value"]]
            lifetimes.update(("%s[%d]" % (key, index), contents[item][1])
                             for index, item in enumerate(entry["value"]))
        elif entry["type"] == "zset":
            value = sorted(member for member, _ in entry["value"])
        else:
            value = entry["value"]
        folded[key] = (entry["type"], value)
        lifetimes[key] = entry["ttl"]
    assert len(contents) == sum(len(value) for kind, value in folded.values() if kind == "list")
    return folded, lifetimes


def typed(value):
    """``value`` with the kind of every string spelled out (Python 2's u"a" == b"a" hides it)."""
    if isinstance(value, dict):
        return {typed(key): typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def packed_alike(one, other):
    """
    Whether two msgpack payloads are the same bytes. Python 2 orders a
    dict's keys its own way (asgi_redis there too): the same message then.
    """
    if not six.PY2:
        return one == other
    return typed(msgpack.unpackb(one, raw=False)) == typed(msgpack.unpackb(other, raw=False))


def assert_same_lists(written_keys, recorded_keys):
    """The same keys, each list holding the same payloads in the same order."""
    assert sorted(written_keys) == sorted(recorded_keys)
    for key, (kind, value) in recorded_keys.items():
        assert written_keys[key][0] == kind
        if kind == "list":
            assert len(written_keys[key][1]) == len(value)
            for written, recorded in zip(written_keys[key][1], value):
                assert packed_alike(base64.b64decode(written), base64.b64decode(recorded)), key
        else:
            assert written_keys[key][1] == value, key


def assert_same_as_recorded(case, ports, prefix="asgi:"):
    ours = dump(ports)
    for recorded, written in zip(CASES[case]["servers"], ours):
        recorded_keys, recorded_ttls = logical(recorded, prefix)
        written_keys, written_ttls = logical(written, prefix)
        assert_same_lists(written_keys, recorded_keys)
        assert sorted(written_ttls) == sorted(recorded_ttls)
        for key, ttl in recorded_ttls.items():
            assert abs(written_ttls[key] - ttl) <= 1, key


def assert_same_values(received, expected):
    """Equal, and text stays text and bytes stay bytes at every depth."""
    assert type(received) is type(expected) or (
        isinstance(received, six.text_type) and isinstance(expected, six.text_type)) or (
        isinstance(received, dict) and isinstance(expected, dict))
    if isinstance(expected, dict):
        assert sorted(received) == sorted(expected)
        for key in expected:
            assert_same_values(received[key], expected[key])
    elif isinstance(expected, list):
        assert len(received) == len(expected)
        for one, other in zip(received, expected):
            assert_same_values(one, other)
    else:
        assert received == expected


# asgi_redis wrote; this layer reads.

@pytest.mark.parametrize("case, receive_on, channel", [
    ("plain", "http.request", "http.request"),
    ("process_local", "http.response!", "http.response!fixtureReply"),
    ("single_reader", "http.response?fixtureReply", "http.response?fixtureReply"),
])
def test_receives_what_asgi_redis_sent(redis_servers, case, receive_on, channel):
    ports = redis_servers(1)
    load(case, ports)
    received_channel, message = layer_on(ports).receive([receive_on])
    assert received_channel == channel
    assert_same_values(message, dict(sample_message()))
    assert clients(ports)[0].keys("asgi:[0-9a-f]*") == []


def test_receives_under_a_custom_prefix(redis_servers):
    ports = redis_servers(1)
    load("custom_prefix", ports)
    channel, message = layer_on(ports, prefix="myapp:").receive(["http.request"])
    assert channel == "http.request"
    assert_same_values(message, dict(sample_message()))


def test_decrypts_what_asgi_redis_encrypted(redis_servers):
    ports = redis_servers(1)
    load("encrypted", ports)
    layer = layer_on(ports, symmetric_encryption_keys=["another-key", ENCRYPTION_KEY], expiry=DECADE)
    channel, message = layer.receive(["http.request"])
    assert channel == "http.request"
    assert_same_values(message, dict(sample_message()))


def test_sees_the_groups_asgi_redis_made(redis_servers):
    ports = redis_servers(1)
    load("group", ports)
    layer = layer_on(ports, group_expiry=DECADE)
    assert sorted(layer.group_channels("chat")) == ["websocket.send!fixtureMember", "websocket.send?fixtureOther"]
    layer.group_discard("chat", "websocket.send?fixtureOther")
    assert list(layer.group_channels("chat")) == ["websocket.send!fixtureMember"]


def test_finds_every_sharded_message_and_group_on_its_shard(redis_servers):
    ports = redis_servers(2)
    load("sharded", ports)
    layer = layer_on(ports, group_expiry=DECADE)
    recorded = CASES["sharded"]["returned"]
    process_local = [channel for channel in recorded["channels"] if "!" in channel]
    # One reader of a process-specific prefix gets them in the order sent.
    assert [layer.receive(["http.response!"]) for _ in process_local] == [
        (channel, {"to": channel}) for channel in process_local]
    for channel in recorded["channels"]:
        if "?" in channel:
            assert layer.receive([channel]) == (channel, {"to": channel})
    for group in recorded["groups"]:
        assert list(layer.group_channels(group)) == ["websocket.send!member"]


# This layer writes what asgi_redis writes.

@pytest.mark.parametrize("case, channel, options", [
    ("plain", "http.request", {}),
    ("process_local", "http.response!fixtureReply", {}),
    ("single_reader", "http.response?fixtureReply", {}),
])
def test_sends_what_asgi_redis_sends(redis_servers, case, channel, options):
    ports = redis_servers(1)
    clients(ports)[0].flushall()
    layer_on(ports).send(channel, sample_message())
    assert_same_as_recorded(case, ports)


def test_sends_under_a_custom_prefix_and_expiry_what_asgi_redis_sends(redis_servers):
    ports = redis_servers(1)
    clients(ports)[0].flushall()
    layer_on(ports, prefix="myapp:", expiry=30).send("http.request", sample_message())
    assert_same_as_recorded("custom_prefix", ports, prefix="myapp:")


def test_adds_to_groups_as_asgi_redis_does(redis_servers):
    ports = redis_servers(1)
    clients(ports)[0].flushall()
    layer = layer_on(ports)
    before = time.time()
    layer.group_add("chat", "websocket.send!fixtureMember")
    layer.group_add("chat", "websocket.send?fixtureOther")
    assert_same_as_recorded("group", ports)
    # Members are scored by the time they were added, as asgi_redis expires them.
    scores = [score for _, score in clients(ports)[0].zrange("asgi::group:chat", 0, -1, withscores=True)]
    assert all(before - 1 <= score <= time.time() + 1 for score in scores)


def test_encrypts_as_asgi_redis_does(redis_servers):
    # The redis-encryption extra.
    Fernet = pytest.importorskip("cryptography.fernet").Fernet
    ports = redis_servers(1)
    clients(ports)[0].flushall()
    layer_on(ports, symmetric_encryption_keys=[ENCRYPTION_KEY]).send("http.request", sample_message())
    written, written_ttls = logical(dump(ports)[0], "asgi:")
    recorded, recorded_ttls = logical(CASES["encrypted"]["servers"][0], "asgi:")
    # The same keys and lifetimes; the tokens differ (each has its own IV and time).
    assert sorted(written) == sorted(recorded)
    assert all(abs(written_ttls[key] - ttl) <= 1 for key, ttl in recorded_ttls.items())
    # asgi_redis's Fernet key is the URL-safe base64 of the SHA-256 of the
    # configured key; under it both tokens hold the same bytes.
    fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(ENCRYPTION_KEY.encode("utf8")).digest()))
    tokens = [base64.b64decode(keys["asgi:http.request"][1][0]) for keys in (written, recorded)]
    assert packed_alike(fernet.decrypt(tokens[0]), fernet.decrypt(tokens[1]))


def test_shards_as_asgi_redis_does(redis_servers):
    ports = redis_servers(2)
    for client in clients(ports):
        client.flushall()
    layer = layer_on(ports)
    recorded = CASES["sharded"]["returned"]
    hashes, channels, groups = recorded["consistent_hash"], recorded["channels"], recorded["groups"]
    for channel in channels:
        layer.send(channel, {"to": channel})
    for group in groups:
        layer.group_add(group, "websocket.send!member")
    ours = dump(ports)
    # A process-specific channel lives on the shard of its name up to the
    # '!', a single-reader channel and a group on the shard of their name.
    for channel in channels:
        if "?" in channel:
            assert "asgi:" + channel in ours[hashes[channel]]
    assert "asgi:http.response!" in ours[hashes["http.response!"]]
    for group in groups:
        assert "asgi::group:" + group in ours[hashes[group]]
    # And so the same keys, holding the same messages, on each server.
    for recorded, written in zip(CASES["sharded"]["servers"], ours):
        assert_same_lists(logical(written, "asgi:")[0], logical(recorded, "asgi:")[0])
