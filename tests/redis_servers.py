"""
Throwaway Redis servers for the Redis layer's tests: ``redis-server`` on a
free port, nothing saved to disk, killed at the end.

Without ``redis-server`` (or redis-py) the tests skip, saying why, unless
the environment sets ASGIREF_REQUIRE_REDIS=1 (CI does): then they fail.
"""
from __future__ import absolute_import, unicode_literals

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from contextlib import closing

import pytest

REQUIRED = os.environ.get("ASGIREF_REQUIRE_REDIS") == "1"


def skip_or_fail(reason):
    """Skip with ``reason``, or fail when ASGIREF_REQUIRE_REDIS=1 says the Redis tests must run."""
    if REQUIRED:
        raise AssertionError("ASGIREF_REQUIRE_REDIS=1 but " + reason)
    raise unittest.SkipTest(reason)


def executable(name="redis-server"):
    """The path of ``name`` on PATH (or in /usr/sbin, /usr/bin), or None."""
    for directory in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]:
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def require_redis():
    """Skip (or fail) unless redis-server and redis-py are both here."""
    if executable() is None:
        skip_or_fail("redis-server is not installed (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
        import msgpack  # noqa: F401
    except ImportError as error:
        skip_or_fail("the redis extra is not installed (pip install \".[redis]\"): %s" % error)


def require_redis_version(version, why):
    """Skip (or fail) unless redis-server is ``version`` (a tuple) or later, saying ``why`` it must be."""
    require_redis()
    output = subprocess.check_output([executable(), "--version"]).decode("ascii", "replace")
    found = re.search(r"v=([0-9]+)\.([0-9]+)", output)
    if found is None or tuple(int(part) for part in found.groups()) < tuple(version):
        skip_or_fail("%s needs redis-server %s or later; this is %s" % (
            why, ".".join(str(part) for part in version), output.strip()))


@pytest.fixture
def redis_server():
    """A RedisServer of the test's own."""
    require_redis()
    started = RedisServer()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def redis_servers():
    """A function ``count -> [port, ...]`` of that many servers, started on first use, stopped after the module."""
    started = []

    def ports(count):
        while len(started) < count:
            started.append(RedisServer())
        return [server.port for server in started[:count]]
    yield ports
    for server in started:
        server.stop()


def free_port():
    """A port nothing listens on now: the one the system hands a socket bound to port 0."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer(object):
    """One ``redis-server`` process on 127.0.0.1; ``port`` stays the same across restarts."""

    def __init__(self, port=None, extra=(), config=None):
        require_redis()
        self.port = port or free_port()
        self.extra = list(extra)
        self.config = config
        self.directory = tempfile.mkdtemp(prefix="asgiref-redis-")
        self.process = None
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        arguments = [executable()]
        if self.config is not None:
            path = os.path.join(self.directory, "redis.conf")
            with open(path, "w") as config:
                config.write(self.config)
            arguments.append(path)
        arguments += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                      "--dir", self.directory] + self.extra
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, self.process)
        except BaseException:
            self.kill()
            raise

    def kill(self):
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()

    def restart(self):
        self.kill()
        self.start()

    def stop(self):
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_for_port(port, process, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError("redis-server exited at start: %s" % process.stdout.read().decode("utf8", "replace"))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except socket.error:
            time.sleep(0.02)
    raise AssertionError("redis-server did not listen on port %d within %ss" % (port, timeout))
