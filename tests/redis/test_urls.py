"""
The Redis layer's URLs, checked before anything connects: a known scheme, a
port from 1 to 65535, a db that is a number; passwords never shown.
"""
from __future__ import absolute_import, unicode_literals

import subprocess
import sys

import pytest

from asgiref.redis.urls import URL_SCHEMES, check_url, redacted


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
