"""
The cluster layer on a Redis Cluster that speaks TLS only, as ElastiCache
in cluster mode and Azure's OSS cluster do: six nodes showing a
certificate from a CA of the test's own, with no plain port, started once
for this module. A plain connection to any node fails, so every message
that goes through proves that the layer's own connections to the masters
(its sends, receives and group sends, its doorbells, the asyncio client)
use TLS and trust the CA it was given. Where redis-py has no cluster
client (Python 2, 3.6) the tests skip saying so.
"""
from __future__ import absolute_import, unicode_literals

import ssl
import threading
import time

import pytest
import six

from tests.command.test_cli import command, echoed, get  # noqa: F401 (command is a fixture)
from tests.redis.test_cluster import names_in_other_slots
from tests.redis_cluster import RedisCluster, require_cluster
from tests.redis_tls import Certificates
from tests.threads import in_thread

try:
    from asgiref.redis import RedisClusterChannelLayer, RedisUnavailable
    from asgiref.redis.cluster.wire import slot
except ImportError:
    RedisClusterChannelLayer = RedisUnavailable = slot = None

WORKER_SERVING = r"asgiref: worker serving cli_apps:application from asgiref\.redis\.RedisClusterChannelLayer"

_started = {}


def tls_cluster():
    """This module's TLS cluster and its certificates, started on first use."""
    require_cluster()
    if not _started:
        _started["certificates"] = Certificates()
        try:
            _started["cluster"] = RedisCluster(certificates=_started["certificates"])
        except BaseException:
            _started.pop("certificates").remove()
            raise
    return _started["cluster"], _started["certificates"]


def teardown_module():
    if "cluster" in _started:
        _started.pop("cluster").stop()
    if "certificates" in _started:
        _started.pop("certificates").remove()


def seed_url(user="", **parameters):
    """The ``rediss+cluster://`` URL of the first node, with ``user`` (``name:password@``) and ``parameters``."""
    cluster, _ = tls_cluster()
    url = "rediss+cluster://%s127.0.0.1:%d/0" % (user, cluster.nodes[0].port)
    return url + ("?" + "&".join("%s=%s" % pair for pair in sorted(parameters.items())) if parameters else "")


def trusting_layer(**options):
    """A layer on the TLS cluster that trusts it by the CA file in its URL."""
    options.setdefault("receive_timeout", 1)
    layer = RedisClusterChannelLayer(hosts=[seed_url(ssl_ca_certs=tls_cluster()[1].ca)], **options)
    layer.flush()
    return layer


def round_trip(layer, names):
    """Each of ``names`` sent a message and received it back, after the start-up ping."""
    layer.ping()
    for name in names:
        layer.send(name, {"to": name})
    return [layer.receive([name], block=True) for name in names]


def names_on_every_master(cluster, per_master=2):
    """Channel names in slots of their own, ``per_master`` on each master."""
    masters = cluster.masters()
    chosen = dict((master.port, []) for master in masters)
    for name in names_in_other_slots(200, "tls"):
        owner = [master for master in masters if cluster.serves(master, slot(name))][0]
        if len(chosen[owner.port]) < per_master:
            chosen[owner.port].append(name)
    assert all(len(names) == per_master for names in chosen.values()), chosen
    return [name for names in chosen.values() for name in names]


def assert_straight_connections_use_tls(layer, count):
    """The layer's own connection to each of ``count`` masters is up (it was not given up for the client) over TLS."""
    assert len(layer._masters) == count
    for server in layer._masters.values():
        assert isinstance(server.connection()._sock, ssl.SSLSocket), server.name


# Sends, receives and group sends over TLS.

def test_messages_go_to_every_master_over_tls_trusting_the_ca_in_the_url():
    cluster, _ = tls_cluster()
    layer = trusting_layer()
    names = names_on_every_master(cluster)
    assert round_trip(layer, names) == [(name, {"to": name}) for name in names]
    assert_straight_connections_use_tls(layer, 3)


def test_a_blocked_receive_over_several_slots_wakes_on_a_send_over_tls():
    layer = trusting_layer(receive_timeout=10)
    channels = names_on_every_master(tls_cluster()[0])
    for channel in (channels[0], channels[-1]):
        thread, result = in_thread(layer.receive, channels, True)
        time.sleep(0.3)
        sent = time.time()
        layer.send(channel, {"to": channel})
        thread.join(10)
        # A bound with slack for a busy machine, far below receive_timeout: the send's doorbell woke it.
        assert result == [(channel, {"to": channel})] and time.time() - sent < 3


def test_a_blocked_receive_async_over_several_slots_wakes_on_a_send_over_tls():
    if six.PY2:
        pytest.skip("receive_async needs Python 3's asyncio")
    layer = trusting_layer(receive_timeout=10)
    import asyncio
    from asgiref.redis import close_clients
    channels = names_on_every_master(tls_cluster()[0])
    sent = []

    def send():
        sent.append(time.time())
        layer.send(channels[3], {"n": 3})
    sender = threading.Timer(0.3, send)
    sender.start()
    loop = asyncio.new_event_loop()
    try:
        received = loop.run_until_complete(asyncio.wait_for(layer.receive_async(channels), 10))
        woke = time.time() - sent[0]
        loop.run_until_complete(layer.send_async(channels[0], {"n": 0}))
        loop.run_until_complete(close_clients(layer))
    finally:
        loop.close()
        sender.join()
    assert received == (channels[3], {"n": 3}) and woke < 3
    assert layer.receive([channels[0]]) == (channels[0], {"n": 0})


def test_send_group_reaches_members_on_every_master_over_tls():
    layer = trusting_layer()
    members = names_on_every_master(tls_cluster()[0], per_master=3)
    for member in members:
        layer.group_add("everyone", member)
    layer.send_group("everyone", {"text": "hi"})
    assert [layer.receive([member]) for member in members] == [(member, {"text": "hi"}) for member in members]
    assert_straight_connections_use_tls(layer, 3)


# How the layer is told to trust the cluster.

def test_the_ca_file_is_also_taken_from_connection_kwargs():
    cluster, certificates = tls_cluster()
    layer = RedisClusterChannelLayer(hosts=[seed_url()], connection_kwargs={"ssl_ca_certs": certificates.ca},
                                     receive_timeout=1)
    names = names_on_every_master(cluster, per_master=1)
    assert round_trip(layer, names) == [(name, {"to": name}) for name in names]
    assert_straight_connections_use_tls(layer, 3)


def test_ssl_cert_reqs_none_reaches_a_cluster_whose_ca_the_system_does_not_trust():
    cluster, _ = tls_cluster()
    names = names_on_every_master(cluster, per_master=1)
    unchecked = RedisClusterChannelLayer(hosts=[seed_url(ssl_cert_reqs="none")], receive_timeout=1)
    assert round_trip(unchecked, names) == [(name, {"to": name}) for name in names]
    with pytest.raises(RedisUnavailable) as raised:
        RedisClusterChannelLayer(hosts=[seed_url()]).ping()
    assert "certificate verify failed" in str(raised.value)


def test_a_cluster_whose_certificate_the_ca_did_not_sign_is_refused_at_ping_in_one_line():
    cluster, certificates = tls_cluster()
    layer = RedisClusterChannelLayer(hosts=[seed_url(ssl_ca_certs=certificates.other_ca)])
    with pytest.raises(RedisUnavailable) as raised:
        layer.ping()
    message = str(raised.value)
    assert message.startswith("cannot reach Redis Cluster at 127.0.0.1:%d: its TLS certificate is not trusted "
                              "(certificate verify failed" % cluster.nodes[0].port)
    assert "give the CA that signed it as ssl_ca_certs" in message and "\n" not in message


def test_an_acl_user_and_its_password_in_the_url():
    cluster, certificates = tls_cluster()
    for node in cluster.nodes:
        # Users are each node's own: the cluster does not share them.
        cluster.cli(node, "ACL", "SETUSER", "layer", "on", ">p@ss/w:rd", "~asgi:*", "~asgi-meta:*", "allchannels",
                    "+@all")
    names = names_on_every_master(cluster, per_master=1)
    layer = RedisClusterChannelLayer(hosts=[seed_url("layer:p%40ss%2Fw%3Ard@", ssl_ca_certs=certificates.ca)],
                                     receive_timeout=1)
    assert round_trip(layer, names) == [(name, {"to": name}) for name in names]
    wrong = RedisClusterChannelLayer(hosts=[seed_url("layer:wrong@", ssl_ca_certs=certificates.ca)])
    with pytest.raises(RedisUnavailable) as raised:
        wrong.ping()
    assert "invalid username-password pair" in str(raised.value) and "wrong" not in str(raised.value)


# The command.

def test_the_split_recipe_serves_http_over_a_tls_cluster(command):  # noqa: F811
    url = seed_url(ssl_ca_certs=tls_cluster()[1].ca)
    interface = command("interface", "--port", "0", "--layer", url)
    worker = command("worker", "cli_apps:application", "--workers", "2", "--layer", url)
    worker.wait_for_line(WORKER_SERVING)
    port = interface.port()
    for n in range(3):
        assert get(port, "/tls/%d" % n)[2] == echoed("GET", "/tls/%d" % n, "")
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_the_command_over_a_cluster_the_ca_did_not_sign_says_so_in_one_line_and_exits_1(command):  # noqa: F811
    cluster, certificates = tls_cluster()
    running = command("interface", "--port", "0", "--layer", seed_url(ssl_ca_certs=certificates.other_ca))
    assert running.wait() == 1
    assert len(running.lines) == 1, running.lines
    assert running.lines[0].startswith("asgiref: error: cannot reach Redis Cluster at 127.0.0.1:%d: its TLS "
                                       "certificate is not trusted" % cluster.nodes[0].port)
