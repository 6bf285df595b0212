"""
asgi_redis 1.4.3's layers, unchanged from the package index, under this
package's ConformanceTestCase used as asgi_redis's own suite uses it (no
opt-ins), against a real redis-server: RedisChannelLayer and
RedisLocalChannelLayer pass it, although both list ``twisted`` (txredisapi
is installed here) and RedisLocalChannelLayer's receive_twisted does not
see its local messages; the Twisted checks, which they do not opt in to,
stay out of their way, and a trial test that runs afterwards, as asgi_redis's
own TwistedTests does, finds the reactor clean.
"""
import os
import sys
import unittest

import pytest
from asgi_redis import RedisChannelLayer, RedisLocalChannelLayer

import asgiref
from asgiref.conformance import ConformanceTestCase

# The Redis servers of the package's own tests: a free port, nothing saved, stopped after.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from redis_servers import RedisServer, require_redis, skip_or_fail  # noqa: E402

PREFIX = "compat%d:" % os.getpid()


def test_the_conformance_suite_here_is_this_packages():
    assert asgiref.__version__.startswith("1.1.")
    assert ConformanceTestCase.twisted_receive is False


def test_both_layers_list_twisted_so_its_checks_would_run_without_the_opt_in():
    if "twisted" not in RedisChannelLayer.extensions:
        skip_or_fail("asgi_redis lists twisted only with txredisapi (the compat environment installs it)")
    assert "twisted" in RedisLocalChannelLayer.extensions


class AsgiRedisConformanceTests(ConformanceTestCase):
    """asgi_redis 1.4.3's RedisChannelLayer, with the settings of its own test_core.py."""

    expiry_delay = 1.1
    capacity_limit = 5

    @classmethod
    def make_layer(cls, port):
        return RedisChannelLayer(hosts=[("127.0.0.1", port)], prefix=PREFIX, expiry=1, group_expiry=2, capacity=5)

    @classmethod
    def setUpClass(cls):
        require_redis()
        super(AsgiRedisConformanceTests, cls).setUpClass()
        cls.server = RedisServer()
        try:
            cls.channel_layer = cls.make_layer(cls.server.port)
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super(AsgiRedisConformanceTests, cls).tearDownClass()


class AsgiRedisLocalConformanceTests(AsgiRedisConformanceTests):
    """asgi_redis 1.4.3's RedisLocalChannelLayer: ordinary channels in asgi_ipc's shared memory."""

    @classmethod
    def make_layer(cls, port):
        try:
            import asgi_ipc  # noqa: F401 (RedisLocalChannelLayer imports it)
            import posix_ipc
        except ImportError as error:
            skip_or_fail("RedisLocalChannelLayer needs asgi_ipc (the compat environment installs it): %s" % error)
        cls.posix_ipc = posix_ipc
        return RedisLocalChannelLayer(hosts=[("127.0.0.1", port)], prefix=PREFIX, expiry=1, group_expiry=2,
                                      capacity=5)

    @classmethod
    def tearDownClass(cls):
        # asgi_ipc leaves its shared memory and semaphores in /dev/shm; they are this test's alone.
        if cls.channel_layer is not None:
            for store in ("messages", "groups"):
                name = "%s-%s" % (cls.channel_layer.local_layer.prefix, store)
                cls.posix_ipc.unlink_shared_memory(name)
                cls.posix_ipc.unlink_semaphore(name)
        super(AsgiRedisLocalConformanceTests, cls).tearDownClass()


def twisted_after_the_conformance_tests():
    """A trial test case like asgi_redis's own TwistedTests, which its suite runs after the conformance tests."""
    trial = pytest.importorskip("twisted.trial.unittest")
    from twisted.internet import defer

    class AfterTheConformanceTests(trial.TestCase):
        def setUp(self):
            self.server = RedisServer()
            self.channel_layer = RedisChannelLayer(hosts=[("127.0.0.1", self.server.port)], prefix=PREFIX)

        def tearDown(self):
            self.server.stop()

        @defer.inlineCallbacks
        def test_receive_twisted(self):
            self.channel_layer.send("twisted", {"n": 1})
            self.channel_layer.send("twisted", {"n": 2})
            self.assertEqual((yield self.channel_layer.receive_twisted(["twisted"])), ("twisted", {"n": 1}))
            self.assertEqual((yield self.channel_layer.receive_twisted(["twisted"])), ("twisted", {"n": 2}))

    return AfterTheConformanceTests("test_receive_twisted")


def test_a_trial_test_after_the_conformance_tests_finds_the_reactor_clean():
    require_redis()
    test = twisted_after_the_conformance_tests()
    result = unittest.TestResult()
    test.run(result)
    assert result.testsRun == 1 and not result.failures and not result.errors, result.failures + result.errors
