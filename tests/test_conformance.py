"""
The conformance suite: the in-memory layer passes all of it, a layer that
keeps only asgiref 1.1's promises passes it unchanged, and broken layers fail.
"""
from __future__ import absolute_import, unicode_literals

import copy
import gc
import threading
import time
import unittest
from collections import deque

import pytest
import six

from asgiref.base_layer import BaseChannelLayer
from asgiref import conformance
from asgiref.inmemory import ChannelLayer


class InMemoryConformanceTests(conformance.ConformanceTestCase):
    channel_layer = ChannelLayer(expiry=1, group_expiry=2, capacity=5, max_message_size=1024 * 1024, receive_timeout=1)
    expiry_delay = 1.1
    capacity_limit = 5
    strict_messages = True
    message_size_limit = 1024 * 1024
    blocking_receive = True
    expiry_leaves_groups = True
    exact_statistics = True
    async_receive = True
    twisted_receive = True
    cancel_safe_receive = True


class OldStyleLayer(BaseChannelLayer):
    """
    A layer that keeps only the promises asgiref 1.1's suite checked: any
    message goes, block is ignored, groups never lose expired channels.
    """

    extensions = ["groups", "flush"]

    def __init__(self, **kwargs):
        super(OldStyleLayer, self).__init__(**kwargs)
        self.flush()

    def send(self, channel, message):
        queue = self.queues.setdefault(self.non_local_name(channel), deque())
        if len(queue) >= self.get_capacity(channel):
            raise self.ChannelFull()
        queue.append((time.time() + self.expiry, channel, self.copy(message)))

    def copy(self, message):
        return copy.deepcopy(message)

    def receive(self, channels, block=False):
        self.valid_channel_names(channels, receive=True)
        for name in channels:
            queue = self.queues.get(name, ())
            while queue and queue[0][0] < time.time():
                queue.popleft()
            if queue:
                _, channel, message = queue.popleft()
                return self.received_name(channel), message
        return None, None

    def received_name(self, channel):
        return channel

    def new_channel(self, pattern):
        if not pattern.endswith("?"):
            raise ValueError("pattern must end in ?")
        self.counter += 1
        return "%s%d" % (pattern, self.counter)

    def group_add(self, group, channel):
        self.groups.setdefault(group, {})[channel] = time.time()

    def group_discard(self, group, channel):
        self.groups.get(group, {}).pop(channel, None)

    def group_channels(self, group):
        return self.members(group)

    def members(self, group):
        now = time.time()
        return [channel for channel, added in self.groups.get(group, {}).items() if added > now - self.group_expiry]

    def send_group(self, group, message):
        for channel in self.members(group):
            try:
                self.send(channel, message)
            except self.ChannelFull:
                pass

    def flush(self):
        self.queues, self.groups, self.counter = {}, {}, 0


class OldStyleConformanceTests(conformance.ConformanceTestCase):
    channel_layer = OldStyleLayer(expiry=1, group_expiry=2, capacity=5)
    expiry_delay = 1.1
    capacity_limit = 5


def run_suite(layer, **attributes):
    """Run the whole suite on ``layer``; return the names of the tests that failed."""
    attributes.setdefault("expiry_delay", 1.1)
    attributes.setdefault("capacity_limit", 5)
    case = type(str("Suite"), (conformance.ConformanceTestCase,), dict(attributes, channel_layer=layer))
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return set(test._testMethodName for test, _ in result.failures + result.errors)


def test_the_base_class_alone_runs_nothing():
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(conformance.ConformanceTestCase).run(result)
    assert result.testsRun == 0 or len(result.skipped) == result.testsRun
    assert not result.failures and not result.errors


def test_a_subclass_without_a_layer_is_told_what_to_set():
    case = type(str("Unset"), (conformance.ConformanceTestCase,), {})
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    assert result.errors
    assert "set channel_layer on Unset" in result.errors[0][1]


def test_a_layer_that_does_not_copy_fails():
    class Sharing(OldStyleLayer):
        def copy(self, message):
            return message

    assert run_suite(Sharing(expiry=1, group_expiry=2, capacity=5)) == set([
        "test_message_alteration_after_send",
    ])


def test_a_layer_that_loses_the_local_part_fails():
    class Forgetful(OldStyleLayer):
        def received_name(self, channel):
            return self.non_local_name(channel)

    failed = run_suite(Forgetful(expiry=1, group_expiry=2, capacity=5))
    assert set([
        "test_single_process_receive", "test_single_process_receive_keeps_the_order_of_sends", "test_groups_process",
    ]) <= failed


def test_opt_in_promises_fail_a_layer_that_does_not_keep_them():
    layer = OldStyleLayer(expiry=1, group_expiry=2, capacity=5)
    failed = run_suite(
        layer, strict_messages=True, message_size_limit=1024, blocking_receive=True, expiry_leaves_groups=True,
        tuples_as_lists=True)
    assert set([
        "test_tuples_arrive_as_lists",
        "test_a_message_that_is_not_a_dict_is_refused",
        "test_values_outside_the_asgi_types_are_refused",
        "test_a_message_over_the_limit_raises_message_too_large",
        "test_a_channel_whose_message_expired_leaves_its_groups",
    ]) <= failed


def test_the_asgiref_1_1_helpers_are_there_for_subclasses():
    assert callable(conformance.ConformanceTestCase.skip_if_no_extension)
    assert callable(conformance.ConformanceTestCase.receive)
    assert conformance.ConformanceTestCase.receive_tries == 1


def test_a_listed_extension_without_its_methods_fails():
    class Boasting(OldStyleLayer):
        extensions = ["groups", "flush", "statistics", "async"]

    case = type(str("Suite"), (conformance.ConformanceTestCase,), {
        "channel_layer": Boasting(), "expiry_delay": 1.1})
    result = unittest.TestResult()
    for name in ("test_each_listed_extension_has_its_methods",
                 "test_async_is_listed_if_and_only_if_receive_async_exists"):
        case(name).run(result)
    assert len(result.failures) == 2


def test_every_asgiref_1_1_test_name_is_there_with_nothing_else_named_alike():
    names = set(unittest.defaultTestLoader.getTestCaseNames(conformance.ConformanceTestCase))
    assert len(conformance.ASGIREF_1_1_TESTS) == 18
    assert set(conformance.ASGIREF_1_1_TESTS) <= names
    assert len(names) > 18


class NoMemberList(OldStyleLayer):
    """A layer that cannot list a group's members, as some 1.1-era layers could not."""

    def group_channels(self, group):
        raise NotImplementedError("this layer cannot list group members")


def test_overriding_an_asgiref_1_1_test_by_name_replaces_it():
    replaced = []

    class Suite(conformance.ConformanceTestCase):
        channel_layer = NoMemberList(expiry=1, group_expiry=2, capacity=5)
        expiry_delay = 1.1
        capacity_limit = 5

        def test_group_channels(self):
            replaced.append(True)
            raise unittest.SkipTest("this layer cannot list group members")

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Suite).run(result)
    assert replaced == [True]
    assert not result.failures and not result.errors, result.failures + result.errors
    assert [test._testMethodName for test, _ in result.skipped if "cannot list" in _] == ["test_group_channels"]


def test_without_the_override_that_layer_fails_only_test_group_channels():
    assert run_suite(NoMemberList(expiry=1, group_expiry=2, capacity=5)) == set(["test_group_channels"])


class EagerTakingLayer(ChannelLayer):
    """
    A receive_twisted that takes its message as it is sent but fires its
    Deferred a reactor turn later, so a cancel in between loses the message.
    """

    waiting = None

    def receive_twisted(self, channels):
        from twisted.internet import defer
        self.waiting = (channels, defer.Deferred())
        return self.waiting[1]

    def send(self, channel, message):
        from twisted.internet import reactor
        super(EagerTakingLayer, self).send(channel, message)
        if self.waiting:
            channels, deferred = self.waiting
            self.waiting = None
            found = self.receive(channels)
            reactor.callLater(0, lambda: deferred.called or deferred.callback(found))


def test_a_receive_that_loses_messages_when_cancelled_fails_only_where_cancel_safety_is_claimed():
    pytest.importorskip("twisted.internet.defer")
    name = "test_a_cancelled_receive_twisted_loses_no_message"
    for claimed in (True, False):
        case = type(str("Suite"), (conformance.ConformanceTestCase,), {
            "channel_layer": EagerTakingLayer(), "expiry_delay": 1.1, "twisted_receive": True,
            "cancel_safe_receive": claimed})
        result = unittest.TestResult()
        case(name).run(result)
        assert (len(result.failures), len(result.skipped)) == ((1, 0) if claimed else (0, 1))


class BlindLayer(OldStyleLayer):
    """
    A 1.1-era layer that lists ``twisted`` and ``async`` but whose
    receive_twisted and receive_async never see its messages, as asgi_redis
    1.4's RedisLocalChannelLayer (its local channels bypass them).
    """

    extensions = ["groups", "flush", "twisted", "async"]

    def receive_twisted(self, channels):
        from twisted.internet import defer
        return defer.succeed((None, None))

    def receive_async(self, channels):
        import asyncio
        return asyncio.sleep(0, result=(None, None))

    def send_async(self, channel, message):
        import asyncio
        return asyncio.sleep(0)


RECEIVE_CHECKS = set([
    "test_receive_twisted_returns_a_waiting_message", "test_receive_twisted_wakes_on_a_send_from_another_thread",
    "test_receive_async_returns_a_waiting_message", "test_receive_async_wakes_on_a_send_from_another_thread",
])
SEND_ASYNC_CHECKS = set([
    "test_send_async_stores_what_receive_returns", "test_send_async_raises_channel_full_at_capacity",
])


def test_a_layer_that_does_not_opt_in_is_not_held_to_its_twisted_and_async_receives():
    pytest.importorskip("twisted.internet.defer")
    assert run_suite(BlindLayer(expiry=1, group_expiry=2, capacity=5)) == set()


def test_the_twisted_and_async_checks_fail_that_layer_once_it_opts_in():
    pytest.importorskip("twisted.internet.defer")
    failed = run_suite(BlindLayer(expiry=1, group_expiry=2, capacity=5),
                       twisted_receive=True, async_receive=True, async_send=True)
    if six.PY2:
        assert failed == set(name for name in RECEIVE_CHECKS if "twisted" in name)
    else:
        assert failed == RECEIVE_CHECKS | SEND_ASYNC_CHECKS


def open_event_loops():
    import asyncio
    import weakref
    # A weakref.proxy whose object is gone (the multiprocessing managers of
    # other tests leave some) raises ReferenceError at any question, even
    # isinstance's: such proxies are passed over by their type.
    proxies = (weakref.ProxyType, weakref.CallableProxyType)
    return [found for found in gc.get_objects()
            if type(found) not in proxies and isinstance(found, asyncio.AbstractEventLoop) and not found.is_closed()]


@pytest.mark.skipif(six.PY2, reason="receive_async needs Python 3")
def test_the_async_checks_leave_no_event_loop_behind():
    gc.collect()
    loops, threads = open_event_loops(), set(threading.enumerate())
    names = [name for name in unittest.defaultTestLoader.getTestCaseNames(InMemoryConformanceTests)
             if "receive_async" in name]
    result = unittest.TestResult()
    unittest.TestSuite(InMemoryConformanceTests(name) for name in names).run(result)
    assert result.testsRun == len(names) >= 4 and not result.failures and not result.errors and not result.skipped
    gc.collect()
    assert open_event_loops() == loops
    # The senders the tests started in threads are done too.
    assert set(thread for thread in threading.enumerate() if thread.is_alive()) <= threads


def test_the_twisted_checks_leave_the_reactor_as_they_found_it_so_trial_runs_after_them():
    trial = pytest.importorskip("twisted.trial.unittest")
    from twisted.internet import defer, reactor, threads
    names = [name for name in unittest.defaultTestLoader.getTestCaseNames(InMemoryConformanceTests)
             if "receive_twisted" in name]
    before = (set(reactor.getDelayedCalls()), set(reactor.getReaders()), set(reactor.getWriters()))
    result = unittest.TestResult()
    unittest.TestSuite(InMemoryConformanceTests(name) for name in names).run(result)
    assert result.testsRun == len(names) >= 4 and not result.failures and not result.errors and not result.skipped
    assert not reactor.running
    assert (set(reactor.getDelayedCalls()), set(reactor.getReaders()), set(reactor.getWriters())) == before
    assert getattr(reactor, "threadpool", None) is None

    class AfterTheConformanceTests(trial.TestCase):
        """As asgi_redis 1.4's TwistedTests: trial runs the reactor itself and checks that it is clean."""

        @defer.inlineCallbacks
        def test_receive_in_a_thread(self):
            received = yield threads.deferToThread(lambda: "from a thread")
            self.assertEqual(received, "from a thread")

    trial_result = unittest.TestResult()
    AfterTheConformanceTests("test_receive_in_a_thread").run(trial_result)
    assert trial_result.testsRun == 1 and not trial_result.failures and not trial_result.errors, \
        trial_result.failures + trial_result.errors
