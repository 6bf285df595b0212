"""
The Redis layer on Redis as managed services run it, against real
redis-servers: TLS only (a CA of the site's own, a client certificate, a
self-signed server), and an ACL user allowed only the layer's keys and
commands.
"""
from __future__ import absolute_import, unicode_literals

import pytest

from asgiref import conformance
from tests.command.test_cli import command  # noqa: F401 (a fixture)
from tests.redis_servers import RedisServer, require_redis, require_redis_version
from tests.redis_tls import Certificates, TlsRedisServer

try:
    import redis
    from asgiref.redis import RedisChannelLayer, RedisUnavailable
except ImportError:
    redis = RedisChannelLayer = RedisUnavailable = None

#: The ACL the docs give the layer's user: its two key prefixes and the commands it runs (its
#: own, those its scripts run, PING); nothing else.
LAYER_ACL = ("on >layer-pw ~asgi:* ~asgi-meta:* resetchannels -@all +ping +evalsha +script|load +blmove +blpop "
             "+zrem +mget +exists +del +expire +get +incr +keys +lindex +llen +lmpop +lpop +pexpire +rpush +set +ttl "
             "+zadd +zrange +zremrangebyscore")


#: LAYER_ACL names BLMOVE (6.2) and LMPOP (7.0).
ACL_VERSION = (7, 0)


def tls_url(server, **parameters):
    """``server``'s rediss:// URL with ``parameters`` as its query."""
    return server.url + "?" + "&".join("%s=%s" % pair for pair in sorted(parameters.items()))


class TlsConformanceTests(conformance.ConformanceTestCase):
    """The whole suite over TLS, trusting the server by the CA file in the URL."""

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
        super(TlsConformanceTests, cls).setUpClass()
        cls.certificates = Certificates()
        cls.server = None
        try:
            cls.server = TlsRedisServer(cls.certificates)
            cls.channel_layer = RedisChannelLayer(
                hosts=[tls_url(cls.server, ssl_ca_certs=cls.certificates.ca)], expiry=1, group_expiry=2,
                capacity=5, receive_timeout=1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.stop()
        cls.certificates.remove()
        super(TlsConformanceTests, cls).tearDownClass()


class AclConformanceTests(conformance.ConformanceTestCase):
    """The whole suite as an ACL user allowed only the layer's key prefixes and the commands in LAYER_ACL."""

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
        require_redis_version(ACL_VERSION, "The layer's ACL")
        super(AclConformanceTests, cls).setUpClass()
        cls.server = RedisServer(config="user layer %s\n" % LAYER_ACL)
        try:
            cls.channel_layer = RedisChannelLayer(
                hosts=["redis://layer:layer-pw@127.0.0.1:%d/0" % cls.server.port], expiry=1, group_expiry=2,
                capacity=5, receive_timeout=1)
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super(AclConformanceTests, cls).tearDownClass()


@pytest.fixture(scope="module")
def certificates():
    require_redis()
    made = Certificates()
    yield made
    made.remove()


@pytest.fixture(scope="module")
def tls_server(certificates):
    server = TlsRedisServer(certificates)
    yield server
    server.stop()


def round_trip(layer):
    """A message there and back through ``layer``, after its start-up ping."""
    layer.ping()
    layer.send("managed", {"there": "and back"})
    return layer.receive(["managed"], block=True)


# TLS.

def test_the_ca_file_is_also_taken_from_connection_kwargs(certificates, tls_server):
    layer = RedisChannelLayer(hosts=[tls_server.url], connection_kwargs={"ssl_ca_certs": certificates.ca},
                              receive_timeout=1)
    assert round_trip(layer) == ("managed", {"there": "and back"})


def test_a_server_that_requires_a_client_certificate_gets_the_one_in_the_url(certificates):
    server = TlsRedisServer(certificates, client_certificates=True)
    try:
        with_certificate = RedisChannelLayer(hosts=[tls_url(
            server, ssl_ca_certs=certificates.ca, ssl_certfile=certificates.client,
            ssl_keyfile=certificates.client_key)], receive_timeout=1)
        assert round_trip(with_certificate) == ("managed", {"there": "and back"})
        without = RedisChannelLayer(hosts=[tls_url(server, ssl_ca_certs=certificates.ca)], receive_timeout=1)
        with pytest.raises(RedisUnavailable) as raised:
            without.ping()
    finally:
        server.stop()
    assert str(raised.value).startswith("cannot reach the Redis server at %s: " % server.url)


def test_a_client_certificate_with_its_key_in_the_same_file_on_redis_py_4_and_later(certificates, tmp_path):
    combined = tmp_path.joinpath("client-and-key.pem")
    with open(certificates.client, "rb") as certificate, open(certificates.client_key, "rb") as key:
        combined.write_bytes(certificate.read() + key.read())
    server = TlsRedisServer(certificates, client_certificates=True)
    try:
        url = tls_url(server, ssl_ca_certs=certificates.ca, ssl_certfile=combined)
        if int(redis.__version__.split(".")[0]) < 4:
            # redis-py 3.5 would connect without the certificate.
            with pytest.raises(ValueError) as raised:
                RedisChannelLayer(hosts=[url])
            assert "ignores ssl_certfile without ssl_keyfile" in str(raised.value)
        else:
            assert round_trip(RedisChannelLayer(hosts=[url], receive_timeout=1)) == ("managed", {"there": "and back"})
    finally:
        server.stop()


def test_ssl_cert_reqs_none_reaches_a_self_signed_server_that_is_otherwise_refused(certificates):
    server = TlsRedisServer(certificates, certificate=certificates.self_signed, key=certificates.self_signed_key)
    try:
        unchecked = RedisChannelLayer(hosts=[tls_url(server, ssl_cert_reqs="none")], receive_timeout=1)
        assert round_trip(unchecked) == ("managed", {"there": "and back"})
        with pytest.raises(RedisUnavailable) as raised:
            RedisChannelLayer(hosts=[server.url]).ping()
    finally:
        server.stop()
    assert "certificate verify failed" in str(raised.value)


def test_a_server_whose_certificate_the_ca_did_not_sign_is_refused_in_one_line(certificates, tls_server):
    layer = RedisChannelLayer(hosts=[tls_url(tls_server, ssl_ca_certs=certificates.other_ca)])
    with pytest.raises(RedisUnavailable) as raised:
        layer.ping()
    message = str(raised.value)
    assert message.startswith("cannot reach the Redis server at %s: its TLS certificate is not trusted "
                              "(certificate verify failed" % tls_server.url)
    assert "give the CA that signed it as ssl_ca_certs" in message and "\n" not in message


def test_the_command_over_a_server_the_ca_did_not_sign_says_so_in_one_line_and_exits_1(
        command, certificates, tls_server):
    url = tls_url(tls_server, ssl_ca_certs=certificates.other_ca)
    running = command("interface", "--port", "0", "--layer", url)
    assert running.wait() == 1
    assert len(running.lines) == 1
    assert running.lines[0].startswith("asgiref: error: cannot reach the Redis server at %s: its TLS certificate "
                                       "is not trusted" % tls_server.url)


def test_the_command_names_a_bad_tls_parameter_and_exits_2(command, tls_server):
    running = command("interface", "--port", "0", "--layer", tls_url(tls_server, ssl_cert_reqs="never"))
    assert running.wait() == 2
    running.wait_for_line(r"^asgiref: error: --layer: rediss://127\.0\.0\.1:\d+/0\?ssl_cert_reqs=never: "
                          r"ssl_cert_reqs is 'never', not one of none, optional, required")


def test_a_missing_ca_file_is_named_before_anything_connects():
    require_redis()
    for hosts, kwargs in ((["rediss://127.0.0.1:1/0?ssl_ca_certs=/nowhere/ca.pem"], None),
                          (["rediss://127.0.0.1:1/0"], {"ssl_ca_certs": "/nowhere/ca.pem"})):
        with pytest.raises(ValueError) as raised:
            RedisChannelLayer(hosts=hosts, connection_kwargs=kwargs)
        assert "ssl_ca_certs is '/nowhere/ca.pem', which is not a file" in str(raised.value)


def test_tls_keywords_for_a_server_without_tls_are_refused():
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(hosts=[("127.0.0.1", 6379)], connection_kwargs={"ssl_cert_reqs": "none"})
    assert "connection_kwargs ssl_cert_reqs needs a TLS server, a rediss:// URL, not redis://127.0.0.1:6379/0" \
        in str(raised.value)


def test_redis_pys_ssl_switch_is_refused_for_the_url_scheme_that_says_it():
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(hosts=[("127.0.0.1", 6379)], connection_kwargs={"ssl": True})
    assert "give the server as a rediss:// URL, not redis://127.0.0.1:6379/0" in str(raised.value)


def test_the_urls_parameters_win_over_connection_kwargs(certificates, tls_server):
    layer = RedisChannelLayer(hosts=[tls_url(tls_server, ssl_ca_certs=certificates.ca)],
                              connection_kwargs={"ssl_ca_certs": certificates.other_ca}, receive_timeout=1)
    assert round_trip(layer) == ("managed", {"there": "and back"})


# ACL users.

@pytest.fixture(scope="module")
def acl_server():
    require_redis_version(ACL_VERSION, "The layer's ACL")
    server = RedisServer(config="user layer %s\nuser elsewhere on >other-pw ~other:* +@all\n" % LAYER_ACL)
    yield server
    server.stop()


def test_an_acl_user_and_a_percent_encoded_password_in_the_url(acl_server):
    acl_server_admin = redis.Redis(port=acl_server.port)
    acl_server_admin.execute_command("ACL", "SETUSER", "encoded", "on", ">p@ss/w:rd", "~asgi:*", "~asgi-meta:*",
                                     "+@all")
    layer = RedisChannelLayer(hosts=["redis://encoded:p%%40ss%%2Fw%%3Ard@127.0.0.1:%d/0" % acl_server.port],
                              receive_timeout=1)
    assert round_trip(layer) == ("managed", {"there": "and back"})


def test_a_user_without_the_layers_keys_is_refused_at_ping_naming_them(acl_server):
    layer = RedisChannelLayer(hosts=["redis://elsewhere:other-pw@127.0.0.1:%d/0" % acl_server.port])
    with pytest.raises(RedisUnavailable) as raised:
        layer.ping()
    message = str(raised.value)
    assert message.startswith("the Redis server at redis://127.0.0.1:%d/0 refuses the layer's keys "
                              "(asgi:ping, asgi-meta:ping): " % acl_server.port)
    assert "no permissions" in message
    assert "other-pw" not in message


def test_a_user_with_other_key_prefixes_gets_them_through_the_layers_keywords(acl_server):
    layer = RedisChannelLayer(hosts=["redis://elsewhere:other-pw@127.0.0.1:%d/0" % acl_server.port],
                              prefix="other:", stats_prefix="other:meta:", receive_timeout=1)
    assert round_trip(layer) == ("managed", {"there": "and back"})


def test_a_password_in_connection_kwargs_reaches_a_server_whose_url_has_none():
    # redis-py 3.5's from_url put the URL's missing password over it.
    require_redis()
    server = RedisServer(extra=["--requirepass", "right"])
    try:
        layer = RedisChannelLayer(hosts=[server.url], connection_kwargs={"password": "right"}, receive_timeout=1)
        assert round_trip(layer) == ("managed", {"there": "and back"})
    finally:
        server.stop()


def test_the_layers_acl_user_passes_the_start_up_ping(acl_server):
    # Every command in LAYER_ACL but PING and EXISTS is needed by the conformance suite above; those two by ping().
    layer = RedisChannelLayer(hosts=["redis://layer:layer-pw@127.0.0.1:%d/0" % acl_server.port], receive_timeout=1)
    assert round_trip(layer) == ("managed", {"there": "and back"})


def test_a_socket_timeout_in_the_url_is_held_to_receive_timeout_as_in_connection_kwargs():
    require_redis()
    with pytest.raises(ValueError) as raised:
        RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0?socket_timeout=1"], receive_timeout=5)
    assert "redis://127.0.0.1:6379/0?socket_timeout=1 socket_timeout (1.0) must be at least receive_timeout (5)" \
        in str(raised.value)
