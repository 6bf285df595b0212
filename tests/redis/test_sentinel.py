"""
RedisSentinelChannelLayer against a real Sentinel: the conformance suite
through it, master discovery, and a failover (master killed, replica
promoted) that the layer follows.
"""
from __future__ import absolute_import, unicode_literals

import os
import subprocess
import threading
import time

import pytest

from asgiref import conformance
from tests.redis_servers import RedisServer, executable, free_port, require_redis, wait_for_port

try:
    import redis
    from asgiref.redis import RedisSentinelChannelLayer, RedisUnavailable
except ImportError:
    redis = RedisSentinelChannelLayer = RedisUnavailable = None

SERVICE = "asgiref-master"


class Sentinel(object):
    """
    A master, optionally a replica, and one sentinel watching them (quorum
    1, 0.5 s to notice); ``password``: the sentinel's and the master's
    ``requirepass`` (the sentinel knows the master's).
    """

    def __init__(self, replica=False, password=None):
        require_redis()
        self.password = password
        # The replica's first sync starts at once, not after Redis's 5 s wait for more replicas.
        self.master = RedisServer(extra=["--repl-diskless-sync-delay", "0"] + self._requirepass("master"))
        self.replica = self.process = None
        try:
            self._start(replica)
        except BaseException:
            self.stop()
            raise

    def _start(self, replica):
        if replica:
            self.replica = RedisServer(extra=["--replicaof", "127.0.0.1", str(self.master.port)]
                                       + self._requirepass("master"))
        self.port = free_port()
        path = os.path.join(self.master.directory, "sentinel.conf")
        with open(path, "w") as config:
            config.write("port %d\nbind 127.0.0.1\ndir %s\n" % (self.port, self.master.directory))
            config.write("sentinel monitor %s 127.0.0.1 %d 1\n" % (SERVICE, self.master.port))
            config.write("sentinel down-after-milliseconds %s 500\n" % SERVICE)
            config.write("sentinel failover-timeout %s 3000\n" % SERVICE)
            if self.password:
                config.write("requirepass %s\nsentinel auth-pass %s %s\n" % (
                    self.password["sentinel"], SERVICE, self.password["master"]))
        self.process = subprocess.Popen([executable(), path, "--sentinel"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process)
        self._wait_until_settled(replicas=1 if replica else 0)

    def _wait_until_settled(self, replicas, timeout=10):
        """Until the sentinel reports the master up, with its replica if there is one."""
        from redis.sentinel import MasterNotFoundError, Sentinel as SentinelClient
        client = SentinelClient([("127.0.0.1", self.port)], sentinel_kwargs=self.sentinel_kwargs)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                client.discover_master(SERVICE)
            except MasterNotFoundError:
                pass
            else:
                # A replica the sentinel can promote: known to it, and in sync.
                if len(client.discover_slaves(SERVICE)) >= replicas and (not replicas or redis.Redis(
                        port=self.replica.port, password=self.master_password).info("replication").get(
                            "master_link_status") == "up"):
                    return
            time.sleep(0.1)
        raise AssertionError("the sentinel never reported the master up (with %d replicas)" % replicas)

    def _requirepass(self, which):
        if not self.password:
            return []
        # A replica authenticates to its master with the same password.
        return ["--requirepass", self.password[which], "--masterauth", self.password[which]]

    @property
    def master_password(self):
        return self.password["master"] if self.password else None

    @property
    def layer_kwargs(self):
        """The keywords a layer needs for these sentinels and master: their passwords, if any."""
        if not self.password:
            return {}
        return {"sentinel_kwargs": self.sentinel_kwargs, "connection_kwargs": {"password": self.password["master"]}}

    @property
    def sentinel_kwargs(self):
        """What a client gives the sentinel: its password, if it has one."""
        return {"password": self.password["sentinel"]} if self.password else None

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
        for server in (self.replica, self.master):
            if server is not None:
                server.stop()


class SentinelConformanceTests(conformance.ConformanceTestCase):
    expiry_delay = 1.1
    capacity_limit = 5
    strict_messages = True
    tuples_as_lists = True
    blocking_receive = True
    exact_statistics = True
    async_receive = True
    async_send = True
    twisted_receive = True

    @classmethod
    def setUpClass(cls):
        require_redis()
        super(SentinelConformanceTests, cls).setUpClass()
        cls.sentinel = Sentinel()
        try:
            cls.channel_layer = RedisSentinelChannelLayer(
                hosts=[("127.0.0.1", cls.sentinel.port)], services=[SERVICE], expiry=1, group_expiry=2,
                capacity=5, receive_timeout=1)
        except BaseException:
            cls.sentinel.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sentinel.stop()
        super(SentinelConformanceTests, cls).tearDownClass()


@pytest.fixture(params=[None, {"sentinel": "sentinel-pw", "master": "master-pw"}], ids=["open", "passwords"])
def watched(request):
    sentinel = Sentinel(replica=True, password=request.param)
    yield sentinel
    sentinel.stop()


def test_without_services_the_layer_uses_every_master_the_sentinels_know(watched):
    layer = RedisSentinelChannelLayer(hosts=[("127.0.0.1", watched.port)], receive_timeout=1,
                                      **watched.layer_kwargs)
    assert layer.services == [SERVICE]
    layer.send("discovered", {"n": 1})
    assert layer.receive(["discovered"]) == ("discovered", {"n": 1})


def test_ping_reaches_the_master_and_names_the_service_when_it_is_gone():
    require_redis()
    # No replica: nothing takes the master's place once it is gone.
    alone = Sentinel()
    try:
        layer = RedisSentinelChannelLayer(hosts=[("127.0.0.1", alone.port)], services=[SERVICE], receive_timeout=1)
        layer.ping()
        alone.master.kill()
        with pytest.raises(RedisUnavailable) as raised:
            layer.ping()
    finally:
        alone.stop()
    assert str(raised.value).startswith("cannot reach the master of Sentinel service %r: " % SERVICE)


def test_hosts_must_be_sentinel_address_pairs():
    require_redis()
    with pytest.raises(ValueError):
        RedisSentinelChannelLayer(hosts=["redis://127.0.0.1:26379"], services=[SERVICE])
    with pytest.raises(ValueError):
        RedisSentinelChannelLayer(hosts=[("127.0.0.1", 26379)], services=SERVICE)


def test_the_layer_follows_a_failover(watched):
    layer = RedisSentinelChannelLayer(hosts=[("127.0.0.1", watched.port)], services=[SERVICE], receive_timeout=1,
                                      **watched.layer_kwargs)
    layer.send("before", {"n": 1})
    assert layer.receive(["before"]) == ("before", {"n": 1})
    received = []
    receiver = threading.Thread(target=lambda: received.append(_receive_within(layer, ["after"], 20)))
    receiver.start()
    watched.master.kill()
    errors = []
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            layer.send("after", {"n": 2})
            break
        except RedisUnavailable as error:
            errors.append(str(error))
            time.sleep(0.2)
    else:
        raise AssertionError("no send succeeded within 20 s of the master's death: %s" % errors[-1:])
    receiver.join(20)
    assert received == [("after", {"n": 2})]
    assert all(SERVICE in error for error in errors)
    role = layer.connection(0).info("replication")
    assert role["role"] == "master" and layer.connection(0).connection_pool.get_master_address()[1] == \
        watched.replica.port


def _receive_within(layer, channels, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            channel, message = layer.receive(channels, block=True)
        except RedisUnavailable:
            continue
        if channel is not None:
            return channel, message
    return None, None


def test_receive_async_reaches_the_master_through_the_sentinels(watched):
    import six
    if six.PY2:
        pytest.skip("receive_async needs Python 3's asyncio")
    import asyncio
    from asgiref.redis.async_calls import close_clients
    layer = RedisSentinelChannelLayer(hosts=[("127.0.0.1", watched.port)], services=[SERVICE], receive_timeout=1,
                                      **watched.layer_kwargs)
    layer.send("async.sentinel", {"n": 1})
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(layer.receive_async(["async.sentinel"])) == ("async.sentinel", {"n": 1})
    finally:
        loop.run_until_complete(close_clients(layer))
        loop.close()


def test_sentinels_with_a_password_get_it_from_sentinel_kwargs_and_the_master_from_connection_kwargs():
    require_redis()
    guarded = Sentinel(password={"sentinel": "sentinel-pw", "master": "master-pw"})
    try:
        layer = RedisSentinelChannelLayer(
            hosts=[("127.0.0.1", guarded.port)], sentinel_kwargs={"password": "sentinel-pw"},
            connection_kwargs={"password": "master-pw"}, receive_timeout=1)
        assert layer.services == [SERVICE]
        layer.ping()
        layer.send("guarded", {"n": 1})
        assert layer.receive(["guarded"], block=True) == ("guarded", {"n": 1})
        assert layer.sentinel_kwargs == {"password": "sentinel-pw", "socket_timeout": 2, "socket_connect_timeout": 5}
        with pytest.raises(RedisUnavailable) as raised:
            RedisSentinelChannelLayer(hosts=[("127.0.0.1", guarded.port)], connection_kwargs={"password": "master-pw"})
        without = RedisSentinelChannelLayer(hosts=[("127.0.0.1", guarded.port)], services=[SERVICE],
                                            connection_kwargs={"password": "master-pw"})
        with pytest.raises(RedisUnavailable) as refused_at_ping:
            without.ping()
    finally:
        guarded.stop()
    assert str(raised.value).startswith("no sentinel of [") and "answered with its masters: " in str(raised.value)
    assert str(refused_at_ping.value).startswith("cannot reach the master of Sentinel service %r: " % SERVICE)
    assert "\n" not in str(refused_at_ping.value)


def test_sentinel_kwargs_must_be_a_dict():
    require_redis()
    with pytest.raises(TypeError):
        RedisSentinelChannelLayer(hosts=[("127.0.0.1", 26379)], services=[SERVICE], sentinel_kwargs="sentinel-pw")
