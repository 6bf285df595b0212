"""
The Redis layer's URLs, checked before anything connects: a known scheme, a
port from 1 to 65535, a db that is a number; passwords never shown.
"""
from __future__ import absolute_import, unicode_literals

import subprocess
import sys

import pytest

from asgiref.redis.urls import URL_SCHEMES, check_url, connection_options, redacted, uses_tls


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0",
    "redis://localhost",
    "redis://localhost/",
    "rediss://:secret@example.com:6390/2",
    "redis://user:secret@[::1]:6379/15",
    "redis://example.com:6379?db=3",
    "unix:///run/redis.sock",
    "unix:///run/redis.sock?db=3",
])
def test_urls_redis_py_reads_as_written_are_accepted(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1:6379/0", "http://127.0.0.1:6379/0 is not a redis://, rediss:// or unix:// URL"),
    ("redis://host:6379/abc", "the db in redis://host:6379/abc is 'abc', not a number"),
    ("redis://host:6379/-1", "the db in redis://host:6379/-1 is '-1', not a number"),
    ("redis://host:6379?db=one", "the db in redis://host:6379?db=one is 'one', not a number"),
    ("unix:///run/redis.sock?db=x", "the db in unix:///run/redis.sock?db=x is 'x', not a number"),
    ("unix://?db=1", "unix://?db=1 names no socket"),
    ("redis://host:abc/0", "the port in redis://host:abc/0 is 'abc', not a number from 1 to 65535"),
    ("redis://host:0/0", "the port in redis://host:0/0 is '0', not a number from 1 to 65535"),
    ("redis://host:65536/0", "the port in redis://host:65536/0 is '65536'"),
    ("redis://[::1]x/0", "the port in redis://[::1]x/0 is 'x'"),
])
def test_a_bad_url_is_refused_naming_it_and_what_is_wrong(url, message):
    with pytest.raises(ValueError) as raised:
        check_url(url)
    assert message in str(raised.value)


def test_a_refused_url_never_shows_its_password():
    with pytest.raises(ValueError) as raised:
        check_url("redis://user:hunter2@host:6379/abc")
    assert "hunter2" not in str(raised.value)
    assert "redis://user:***@host:6379/abc" in str(raised.value)


@pytest.mark.parametrize("url, shown", [
    ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
    ("rediss://user:secret@host", "rediss://user:***@host"),
    ("redis://user@host:6379/0", "redis://user@host:6379/0"),
    ("unix://:secret@/run/redis.sock?db=1", "unix://:***@/run/redis.sock?db=1"),
    ("redis://host:6379/0", "redis://host:6379/0"),
])
def test_redacted_hides_only_the_password(url, shown):
    assert redacted(url) == shown


def test_the_schemes_are_defined_once_and_the_command_reads_them_without_redis_py():
    from asgiref.command import cli
    assert cli.URL_SCHEMES is URL_SCHEMES
    code = "import sys, asgiref.command.cli, asgiref.redis.urls; sys.exit('redis' in sys.modules)"
    assert subprocess.call([sys.executable, "-c", code]) == 0


def test_the_redis_connections_take_the_same_schemes():
    pytest.importorskip("redis")
    from asgiref.redis import connection
    assert connection.URL_SCHEMES is URL_SCHEMES


# Query parameters, credentials and TLS options: connection_options.

@pytest.fixture
def pem(tmp_path):
    """A file that exists, for the ssl_* parameters that name one (only its existence is checked here)."""
    path = tmp_path.joinpath("ca.pem")
    path.write_text(u"not read here")
    return str(path)


def test_a_tls_url_gives_the_ca_the_client_certificate_and_key_and_the_check(pem):
    url = "rediss://h:6380/2?ssl_ca_certs=%s&ssl_certfile=%s&ssl_keyfile=%s&ssl_cert_reqs=required" % (pem, pem, pem)
    assert connection_options(url) == {
        "host": "h", "port": 6380, "db": 2, "ssl_ca_certs": pem, "ssl_certfile": pem, "ssl_keyfile": pem,
        "ssl_cert_reqs": "required"}


def test_ssl_cert_reqs_none_is_for_a_self_signed_server():
    assert connection_options("rediss://h:6380/0?ssl_cert_reqs=none")["ssl_cert_reqs"] == "none"


@pytest.mark.parametrize("url, expected", [
    ("rediss://layer:p%40ss%3Aw%2Fd@h:6380/0", {"username": "layer", "password": "p@ss:w/d"}),
    ("redis://:secret@h/0", {"password": "secret"}),
    ("redis://caf%C3%A9@h/0", {"username": u"caf\u00e9"}),
])
def test_credentials_are_percent_decoded(url, expected):
    options = connection_options(url)
    assert dict((key, options[key]) for key in expected) == expected
    assert "username" in options or "username" not in expected


@pytest.mark.parametrize("url, expected", [
    ("redis://h:1/3?socket_timeout=7.5&socket_keepalive=yes&health_check_interval=30&client_name=web",
     {"socket_timeout": 7.5, "socket_keepalive": True, "health_check_interval": 30, "client_name": "web"}),
    ("redis://h/0?db=4", {"db": 4, "port": 6379}),
    ("unix:///run/redis.sock?db=3", {"path": "/run/redis.sock", "db": 3}),
    ("redis://[::1]:7000", {"host": "::1", "port": 7000, "db": 0}),
])
def test_redis_py_parameters_are_read_as_their_types(url, expected):
    options = connection_options(url)
    assert dict((key, options[key]) for key in expected) == expected


@pytest.mark.parametrize("url, message", [
    ("rediss://h/0?ssl_ca_cert=/x", "rediss://h/0?ssl_ca_cert=/x has an unknown query parameter 'ssl_ca_cert' "
                                    "(the layer takes client_name, db, "),
    ("rediss://h/0?ssl_cert_reqs=never", "ssl_cert_reqs is 'never', not one of none, optional, required"),
    ("rediss://h/0?ssl_check_hostname=maybe", "ssl_check_hostname is 'maybe', not one of true, false"),
    ("redis://h/0?socket_timeout=-1", "socket_timeout is '-1', not a number of seconds above 0"),
    ("redis://h/0?health_check_interval=soon", "health_check_interval is 'soon', not a whole number"),
    ("redis://h/0?ssl_cert_reqs=none", "redis://h/0?ssl_cert_reqs=none: ssl_cert_reqs needs a TLS server, "
                                       "a rediss:// URL"),
    ("rediss://h/0?ssl_cert_reqs=none&ssl_cert_reqs=required", "gives ssl_cert_reqs twice"),
    ("rediss://h/0?ssl_cert_reqs=none&ssl_check_hostname=true", "ssl_check_hostname cannot check a server"),
    ("rediss://h/0?ssl_ca_certs=/nowhere/ca.pem", "ssl_ca_certs is '/nowhere/ca.pem', which is not a file"),
])
def test_an_unknown_parameter_or_a_bad_value_is_refused_naming_it(url, message):
    with pytest.raises(ValueError) as raised:
        check_url(url)
    assert message in str(raised.value)


def test_a_key_file_needs_its_certificate(pem):
    with pytest.raises(ValueError) as raised:
        connection_options("rediss://h/0?ssl_keyfile=" + pem)
    assert "ssl_keyfile needs ssl_certfile" in str(raised.value)


def test_a_refused_parameter_never_shows_the_password():
    with pytest.raises(ValueError) as raised:
        connection_options("rediss://layer:hunter2@h/0?ssl_cert_reqs=bad")
    assert "hunter2" not in str(raised.value) and "rediss://layer:***@h/0" in str(raised.value)


def test_the_first_word_of_the_scheme_says_tls_for_other_layers_schemes():
    assert uses_tls("rediss://h/0") and uses_tls("rediss+cluster://h/0")
    assert not uses_tls("redis://h/0") and not uses_tls("redis+cluster://h/0") and not uses_tls("unix:///s")
    assert connection_options("rediss+cluster://u:p@h:7000/0?ssl_cert_reqs=none") == {
        "host": "h", "port": 7000, "db": 0, "username": "u", "password": "p", "ssl_cert_reqs": "none"}
