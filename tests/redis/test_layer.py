"""
The Redis layer against real redis-server processes: the whole conformance
suite (plain, sharded over two servers, encrypted), then what it promises
beyond it: sharding, fairness, at-most-once and atomic capacity under
threads, statistics, encryption, hosts and keywords.
"""
from __future__ import absolute_import, unicode_literals

import socket
import threading
import time

import pytest

from asgiref import conformance
from tests.redis_servers import RedisServer, free_port, require_redis
from tests.threads import in_thread

try:
    import redis
    from asgiref.redis import ChannelLayer, RedisChannelLayer, RedisUnavailable
except ImportError:
    redis = RedisChannelLayer = RedisUnavailable = None


class RedisConformanceTests(conformance.ConformanceTestCase):
    """One server; every opt-in the layer can keep."""

    expiry_delay = 1.1
    capacity_limit = 5
    strict_messages = True
    tuples_as_lists = True
    message_size_limit = 1024 * 1024
    blocking_receive = True
    exact_statistics = True
    async_receive = True
    async_send = True
    twisted_receive = True
    hosts_count = 1
    layer_options = {}

    @classmethod
    def setUpClass(cls):
        require_redis()
        super(RedisConformanceTests, cls).setUpClass()
        cls.servers = []
        try:
            cls.servers.extend(RedisServer() for _ in range(cls.hosts_count))
            cls.channel_layer = RedisChannelLayer(
                hosts=[server.url for server in cls.servers], expiry=1, group_expiry=2, capacity=5,
                max_message_size=1024 * 1024, receive_timeout=1, **cls.layer_options)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.stop()
        super(RedisConformanceTests, cls).tearDownClass()


class ShardedRedisConformanceTests(RedisConformanceTests):
    """
    Two servers: channels and groups spread over both. Senders take turns
    over the servers for an ordinary channel, so its capacity holds on each
    server (as in asgi_redis): the capacity tests run on one server.
    """

    hosts_count = 2
    capacity_limit = None


class EncryptedRedisConformanceTests(RedisConformanceTests):
    """Every message Fernet-encrypted."""

    layer_options = {"symmetric_encryption_keys": ["test", "old"]}


@pytest.fixture(scope="module")
def servers():
    require_redis()
    started = [RedisServer(), RedisServer()]
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def server(servers):
    servers[0].raw = redis.Redis.from_url(servers[0].url)
    servers[0].raw.flushdb()
    return servers[0]


@pytest.fixture
def sharded(servers):
    for server in servers:
        server.raw = redis.Redis.from_url(server.url)
        server.raw.flushdb()
    return RedisChannelLayer(hosts=[server.url for server in servers], receive_timeout=1)


def layer_on(server, **options):
    options.setdefault("receive_timeout", 1)
    return RedisChannelLayer(hosts=[server.url], **options)


# Construction.

def test_asgi_redis_keywords_and_defaults():
    require_redis()
    layer = RedisChannelLayer()
    assert (layer.expiry, layer.group_expiry, layer.capacity, layer.prefix, layer.stats_prefix) == (
        60, 86400, 100, "asgi:", "asgi-meta:")
    assert layer.hosts == ["redis://localhost:6379/0"]
    assert layer.receive_timeout == 5 and layer.max_message_size is None
    assert ChannelLayer is RedisChannelLayer


def test_hosts_take_urls_and_host_port_pairs():
    require_redis()
    layer = RedisChannelLayer(hosts=[("10.0.0.1", 6380), "rediss://:secret@example.com:6390/2",
                                     "unix:///run/redis.sock?db=3"])
    assert layer.hosts == ["redis://10.0.0.1:6380/0", "rediss://:secret@example.com:6390/2",
                           "unix:///run/redis.sock?db=3"]
    assert layer.ring_size == 3


@pytest.mark.parametrize("hosts, message", [
    ("redis://localhost:6379", "not one string"),
    (["localhost:6379"], "is not a redis://, rediss:// or unix:// URL"),
    ([("localhost", 6379, 0)], "neither a URL nor a (host, port) pair"),
])
def test_bad_hosts_are_refused_naming_the_entry(hosts, message):
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(hosts=hosts)
    assert message in str(raised.value)


@pytest.mark.parametrize("hosts, message", [
    (["redis://localhost:6379/abc"], "the db in redis://localhost:6379/abc is 'abc', not a number"),
    (["unix:///run/redis.sock?db=x"], "the db in unix:///run/redis.sock?db=x is 'x', not a number"),
    (["redis://:secret@localhost:port/0"], "the port in redis://:***@localhost:port/0 is 'port'"),
    (["http://localhost:6379/0"], "is not a redis://, rediss:// or unix:// URL"),
])
def test_a_url_redis_py_would_misread_is_refused_naming_it(hosts, message):
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(hosts=hosts)
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)


# Ping: whether every server answers, for start-up and health checks.

def test_ping_returns_when_every_server_answers(sharded):
    assert sharded.ping() is None


def test_ping_names_the_first_server_that_does_not_answer(servers):
    missing = "redis://127.0.0.1:%d/0" % free_port()
    layer = RedisChannelLayer(hosts=[servers[0].url, missing])
    with pytest.raises(RedisUnavailable) as raised:
        layer.ping()
    assert str(raised.value) == "cannot reach the Redis server at %s: Connection refused" % missing


def test_ping_gives_up_on_a_server_that_never_answers_within_its_timeout():
    require_redis()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        layer = RedisChannelLayer(hosts=["redis://127.0.0.1:%d/0" % silent.getsockname()[1]])
        started = time.time()
        with pytest.raises(RedisUnavailable) as raised:
            layer.ping(timeout=0.5)
        # A bound, not a speed: the deadline plus generous slack for a busy machine.
        assert time.time() - started < 3
    finally:
        silent.close()
    assert "no answer within" in str(raised.value)


def test_ping_refuses_a_timeout_that_is_not_a_positive_number(server):
    with pytest.raises(ValueError):
        layer_on(server).ping(timeout=0)


def test_ping_leaves_the_layers_own_connections_alone(server):
    layer = layer_on(server)
    layer.send("before", {"n": 1})
    clients = int(server.raw.info("clients")["connected_clients"])
    layer.ping()
    assert int(server.raw.info("clients")["connected_clients"]) == clients
    assert layer.receive(["before"]) == ("before", {"n": 1})


def test_pings_and_threads_past_the_pools_max_connections_still_serve(server):
    # The layer opens and closes these connections itself: the pool must not
    # count them (redis-py 8's pools refuse any past max_connections, 100 by
    # default, and /healthz pings at every probe).
    layer = layer_on(server, connection_kwargs={"max_connections": 3})
    for _ in range(10):
        layer.ping()
    for number in range(5):
        thread, received = in_thread(lambda n: (layer.send("own", {"n": n}), layer.receive(["own"]))[1], number)
        thread.join(10)
        assert received == [("own", {"n": number})]


def test_a_socket_timeout_shorter_than_a_blocked_receive_is_refused():
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(connection_kwargs={"socket_timeout": 1}, receive_timeout=5)
    assert "socket_timeout" in str(raised.value)


def test_a_prefix_must_be_text():
    require_redis()
    with pytest.raises(TypeError):
        RedisChannelLayer(prefix=b"asgi:" if str is not bytes else 1)


def test_a_unix_socket_url_reaches_the_server(tmp_path):
    require_redis()
    socket_path = str(tmp_path / "redis.sock")
    server = RedisServer(extra=["--unixsocket", socket_path])
    try:
        layer = RedisChannelLayer(hosts=["unix://%s?db=0" % socket_path], receive_timeout=1)
        layer.send("unix.channel", {"over": "a unix socket"})
        assert layer.receive(["unix.channel"]) == ("unix.channel", {"over": "a unix socket"})
    finally:
        server.stop()


# Sharding over two servers.

def test_process_specific_and_single_reader_channels_live_on_the_server_their_name_hashes_to(sharded, servers):
    reply = sharded.new_channel("http.response?")
    sharded.send("daphne.response.XYZ!conn1", {"n": 1})
    sharded.send(reply, {"n": 2})
    # The index asgi_redis 1.4 computes: CRC-32 of the name, 12 bits, scaled to the ring.
    assert sharded.consistent_hash("daphne.response.XYZ!") == 0
    assert servers[0].raw.llen("asgi:daphne.response.XYZ!") == 1
    assert servers[1].raw.llen("asgi:daphne.response.XYZ!") == 0
    assert servers[sharded.consistent_hash(reply)].raw.llen("asgi:" + reply) == 1
    assert sharded.receive(["daphne.response.XYZ!"]) == ("daphne.response.XYZ!conn1", {"n": 1})
    assert sharded.receive([reply]) == (reply, {"n": 2})


def test_ordinary_channels_spread_over_every_server_and_are_all_received(sharded, servers):
    for n in range(10):
        sharded.send("http.request", {"n": n})
    assert [server.raw.llen("asgi:http.request") for server in servers] == [5, 5]
    received = [sharded.receive(["http.request"])[1]["n"] for _ in range(10)]
    assert sorted(received) == list(range(10))
    assert sharded.receive(["http.request"]) == (None, None)


def test_a_blocked_receive_wakes_for_a_message_on_either_server(sharded):
    for n in range(2):
        thread, result = in_thread(sharded.receive, ["idle", "http.request"], True)
        time.sleep(0.3)
        sharded.send("http.request", {"n": n})
        thread.join(5)
        assert result == [("http.request", {"n": n})]


def test_an_ordinary_channels_capacity_holds_on_each_server(sharded):
    layer = RedisChannelLayer(hosts=sharded.hosts, capacity=2)
    for _ in range(4):
        layer.send("spread", {})
    with pytest.raises(layer.ChannelFull):
        layer.send("spread", {})


def test_groups_live_on_the_server_their_name_hashes_to(sharded, servers):
    sharded.group_add("group-a", "member.one")
    assert servers[0].raw.zrange("asgi::group:group-a", 0, -1) == [b"member.one"]
    assert not servers[1].raw.exists("asgi::group:group-a")


def test_send_group_reaches_members_on_both_servers(sharded):
    members = ["ordinary", "local!one", "daphne.response.XYZ!two", sharded.new_channel("single?")]
    for member in members:
        sharded.group_add("fan", member)
    sharded.send_group("fan", {"to": "all"})
    received = set()
    for channel in ["ordinary", "local!", "daphne.response.XYZ!", members[3]]:
        name, message = sharded.receive([channel])
        assert message == {"to": "all"}
        received.add(name)
    assert received == set(members)


# Fairness, at-most-once and capacity under threads.

def test_receive_takes_a_set_or_a_generator_of_names_as_channels_1_passes_them(sharded):
    sharded.send("reply!one", {"n": 1})
    sharded.send("http.request", {"n": 2})
    assert sharded.receive(set(["reply!", "idle"]), block=True) == ("reply!one", {"n": 1})
    assert sharded.receive((name for name in ["idle", "http.request"]), block=True) == ("http.request", {"n": 2})


def test_a_busy_channel_does_not_starve_a_quiet_one(server):
    layer = layer_on(server)
    for n in range(20):
        layer.send("busy", {"n": n})
    layer.send("quiet", {"n": 0})
    first_two = [layer.receive(["busy", "quiet"])[0] for _ in range(2)]
    assert "quiet" in first_two


def test_concurrent_receivers_get_every_message_exactly_once(server):
    layer = layer_on(server, capacity=1000)
    received = []

    def receive():
        while True:
            channel, message = layer.receive(["work"], block=True)
            if channel is None:
                return
            received.append(message["n"])
    threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for n in range(400):
        layer.send("work", {"n": n})
    for thread in threads:
        thread.join(10)
    assert sorted(received) == list(range(400))


def test_capacity_holds_under_concurrent_senders(server):
    layer = layer_on(server, capacity=50)
    outcomes = []

    def send():
        for n in range(20):
            try:
                layer.send("contended", {"n": n})
                outcomes.append("stored")
            except layer.ChannelFull:
                outcomes.append("full")
    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes.count("stored") == 50 and outcomes.count("full") == 110
    assert server.raw.llen("asgi:contended") == 50


def test_channel_capacity_globs_apply(server):
    layer = layer_on(server, capacity=10, channel_capacity={"http.request": 2, "reply.*": 1})
    layer.send("http.request", {})
    layer.send("http.request", {})
    with pytest.raises(layer.ChannelFull):
        layer.send("http.request", {})
    layer.send("reply.one!a", {})
    with pytest.raises(layer.ChannelFull):
        layer.send("reply.one!b", {})


# Statistics, flush, prefixes.

def test_statistics_count_sends_and_channel_full(server):
    layer = layer_on(server, capacity=2)
    layer.send("counted", {})
    layer.send("counted", {})
    with pytest.raises(layer.ChannelFull):
        layer.send("counted", {})
    layer.send("other", {})
    assert layer.global_statistics() == {"messages_count": 3, "channel_full_count": 1}
    assert layer.channel_statistics("counted") == {
        "messages_count": 2, "messages_pending": 2, "messages_max_age": 0, "channel_full_count": 1}
    layer.receive(["counted"])
    assert layer.channel_statistics("counted")["messages_pending"] == 1


def test_a_process_specific_channel_counts_under_its_prefix(server):
    layer = layer_on(server)
    layer.send("reply!a", {})
    layer.send("reply!b", {})
    assert layer.channel_statistics("reply!a")["messages_pending"] == 2
    assert layer.channel_statistics("reply!")["messages_count"] == 2


def test_flush_leaves_other_prefixes_alone(server):
    ours, theirs = layer_on(server), layer_on(server, prefix="other:", stats_prefix="other-meta:")
    ours.send("shared.name", {"owner": "ours"})
    theirs.send("shared.name", {"owner": "theirs"})
    ours.flush()
    assert ours.receive(["shared.name"]) == (None, None)
    assert theirs.receive(["shared.name"]) == ("shared.name", {"owner": "theirs"})
    assert theirs.global_statistics()["messages_count"] == 1


def test_a_received_message_leaves_no_key_behind(server):
    layer = layer_on(server)
    layer.send("tidy", {"first": True})
    layer.receive(["tidy"])
    keys = server.raw.dbsize()
    layer.send("tidy", {"second": True})
    layer.receive(["tidy"])
    assert server.raw.dbsize() == keys


def test_a_message_whose_content_expired_is_skipped_not_returned(server):
    layer = layer_on(server)
    layer.send("partly", {"n": 1})
    layer.send("partly", {"n": 2})
    server.raw.delete(server.raw.lindex("asgi:partly", 0))
    assert layer.receive(["partly"]) == ("partly", {"n": 2})


def test_the_reserved_channel_field_is_refused(server):
    with pytest.raises(ValueError):
        layer_on(server).send("plain", {"__asgi_channel__": "spoofed!x"})


# Encryption.

def test_encrypted_messages_do_not_show_their_content(server):
    layer = layer_on(server, symmetric_encryption_keys=["secret"])
    layer.send("private", {"card": "4111 1111 1111 1111"})
    stored = server.raw.get(server.raw.lindex("asgi:private", 0))
    assert b"4111" not in stored and stored.startswith(b"gAAAAA")
    assert layer.receive(["private"]) == ("private", {"card": "4111 1111 1111 1111"})


def test_keys_rotate_the_first_encrypts_every_one_decrypts(server):
    old = layer_on(server, symmetric_encryption_keys=["old"])
    new = layer_on(server, symmetric_encryption_keys=["new", "old"])
    old.send("rotating", {"from": "old"})
    assert new.receive(["rotating"]) == ("rotating", {"from": "old"})
    new.send("rotating", {"from": "new"})
    with pytest.raises(ValueError) as raised:
        old.receive(["rotating"])
    assert "symmetric_encryption_keys" in str(raised.value)


def test_one_key_string_is_refused():
    require_redis()
    with pytest.raises(ValueError):
        RedisChannelLayer(symmetric_encryption_keys="one key")


# The twisted extension, where Twisted is installed.

def test_twisted_is_listed_only_where_twisted_imports():
    require_redis()
    try:
        import twisted  # noqa: F401 (only whether it imports)
        installed = True
    except ImportError:
        installed = False
    assert ("twisted" in RedisChannelLayer.extensions) == installed


def test_connection_gives_a_redis_py_client_per_server(sharded, servers):
    assert sharded.connection(1).ping()
    with pytest.raises(ValueError):
        sharded.connection(2)


def test_blocked_receives_wait_whole_seconds_where_redis_takes_no_fractions(server):
    layer = layer_on(server, receive_timeout=0.5)
    assert layer.receive(["fractions"], block=True) == (None, None)
    assert layer._servers[0].fractional_timeouts is True
    # As on Redis 6 and older: the wait is rounded up to a second, still bounded.
    layer._servers[0].fractional_timeouts = False
    started = time.time()
    assert layer.receive(["fractions"], block=True) == (None, None)
    assert 0.5 <= time.time() - started < 5
    threading.Timer(0.2, lambda: layer.send("fractions", {"n": 1})).start()
    assert layer.receive(["fractions"], block=True) == ("fractions", {"n": 1})


def test_a_blocked_receive_on_one_channel_leaves_no_key_behind(server):
    layer = layer_on(server)
    threading.Timer(0.2, lambda: layer.send("single", {"n": 1})).start()
    assert layer.receive(["single"], block=True) == ("single", {"n": 1})
    assert [key for key in server.raw.keys("asgi:*") if not key.startswith(b"asgi-meta")] == []


def test_a_blocked_receive_skips_a_message_that_expired_and_waits_on(server):
    layer = layer_on(server, receive_timeout=3)
    for channels in (["expiring"], ["expiring", "other"]):
        thread, result = in_thread(layer.receive, channels, True)
        time.sleep(0.2)
        server.raw.rpush("asgi:expiring", "asgi:" + "0" * 32)
        time.sleep(0.2)
        layer.send("expiring", {"n": 2})
        thread.join(5)
        assert result == [("expiring", {"n": 2})]


# A process-specific channel's batches.

def test_a_receive_on_a_process_specific_prefix_takes_a_batch_and_hands_it_out_in_order(server):
    layer = layer_on(server)
    for n in range(5):
        layer.send("batch.reply!%d" % n, {"n": n})
    assert layer.receive(["batch.reply!"]) == ("batch.reply!0", {"n": 0})
    # The other four left Redis in the same round trip...
    assert server.raw.llen("asgi:batch.reply!") == 0
    # ...and come next, in order, blocking or not, before anything sent later.
    layer.send("batch.reply!5", {"n": 5})
    assert [layer.receive(["batch.reply!"], block=bool(n % 2))[1]["n"] for n in range(5)] == [1, 2, 3, 4, 5]
    assert layer.receive(["batch.reply!"]) == (None, None)


def test_a_batch_is_at_most_prefetch_messages(server):
    from asgiref.redis import PREFETCH
    layer = layer_on(server, capacity=PREFETCH + 10)
    for n in range(PREFETCH + 10):
        layer.send("batch.big!x", {"n": n})
    assert layer.receive(["batch.big!"])[1] == {"n": 0}
    assert server.raw.llen("asgi:batch.big!") == 10
    assert [layer.receive(["batch.big!"])[1]["n"] for _ in range(PREFETCH + 9)] == list(range(1, PREFETCH + 10))


def test_a_blocked_receive_on_a_prefix_takes_a_batch_too(server):
    layer = layer_on(server, receive_timeout=2)

    def send_three():
        for n in range(3):
            layer.send("batch.later!a", {"n": n})
    # The first send wakes the receive; the next two may or may not ride with it.
    threading.Timer(0.2, send_three).start()
    assert layer.receive(["batch.later!"], block=True) == ("batch.later!a", {"n": 0})
    assert [layer.receive(["batch.later!"], block=True)[1]["n"] for _ in range(2)] == [1, 2]


def test_ordinary_channels_and_lists_of_several_are_taken_one_message_at_a_time(server):
    layer = layer_on(server)
    for n in range(3):
        layer.send("shared.work", {"n": n})
        layer.send("batch.mixed!x", {"n": n})
    layer.receive(["shared.work"])
    assert server.raw.llen("asgi:shared.work") == 2
    layer.receive(["batch.mixed!", "shared.work"])
    layer.receive(["batch.mixed!", "shared.work"])
    assert server.raw.llen("asgi:batch.mixed!") + server.raw.llen("asgi:shared.work") == 3


def test_a_batched_message_past_its_expiry_is_dropped_not_handed_out(server):
    layer = layer_on(server, expiry=1)
    layer.send("batch.stale!x", {"n": 1})
    layer.send("batch.stale!x", {"n": 2})
    assert layer.receive(["batch.stale!"])[1] == {"n": 1}
    time.sleep(1.1)
    assert layer.receive(["batch.stale!"]) == (None, None)


def test_flush_drops_the_batched_messages_too(server):
    layer = layer_on(server)
    layer.send("batch.flushed!x", {"n": 1})
    layer.send("batch.flushed!x", {"n": 2})
    layer.receive(["batch.flushed!"])
    layer.flush()
    assert layer.receive(["batch.flushed!"]) == (None, None)


def test_a_batched_message_that_cannot_be_decoded_spoils_only_itself(server):
    layer = layer_on(server)
    layer.send("batch.bad!x", {"n": 1})
    # A message key holding what msgpack cannot read.
    server.raw.set("asgi:" + "1" * 32, b"\xc1")
    server.raw.rpush("asgi:batch.bad!", "asgi:" + "1" * 32)
    layer.send("batch.bad!x", {"n": 3})
    assert layer.receive(["batch.bad!"])[1] == {"n": 1}
    with pytest.raises(ValueError):
        layer.receive(["batch.bad!"])
    assert layer.receive(["batch.bad!"])[1] == {"n": 3}


# Connections.

def test_threads_that_come_and_go_hand_their_connections_on(server):
    layer = layer_on(server, capacity=200)
    before = len(server.raw.client_list())

    failures = []

    def send_once(number):
        try:
            layer.send("threads.many", {"n": number})
        except Exception as error:
            failures.append(error)
    spares = layer._servers[0]._spares
    # More threads in turn than redis-py 8's pool makes connections (100).
    for number in range(150):
        thread = threading.Thread(target=send_once, args=(number,))
        thread.start()
        thread.join()
        # join() returns before the interpreter frees the thread's locals
        # (on Python 2 a little later), which is when its connection joins
        # the spares: the next thread is started once it has.
        deadline = time.time() + 5
        while not spares and time.time() < deadline:
            time.sleep(0.001)
        assert spares, "thread %d ended and its connection was not handed on" % number
    assert failures == []
    assert [layer.receive(["threads.many"])[1]["n"] for _ in range(150)] == list(range(150))
    # One connection went from thread to thread; this one's is the second.
    assert len(server.raw.client_list()) - before <= 2
