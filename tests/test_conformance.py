"""
The conformance suite: the in-memory layer passes all of it, a layer that
keeps only asgiref 1.1's promises passes it unchanged, and broken layers fail.
"""
from __future__ import unicode_literals

import copy
import time
import unittest
from collections import deque

import pytest

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
        now = time.time()
        return [channel for channel, added in self.groups.get(group, {}).items() if added > now - self.group_expiry]

    def send_group(self, group, message):
        for channel in self.group_channels(group):
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
        "test_changing_a_message_after_send_changes_nothing_received",
    ])


def test_a_layer_that_loses_the_local_part_fails():
    class Forgetful(OldStyleLayer):
        def received_name(self, channel):
            return self.non_local_name(channel)

    failed = run_suite(Forgetful(expiry=1, group_expiry=2, capacity=5))
    assert "test_prefix_receive_gets_every_local_channel_with_its_full_name_in_order" in failed
    assert "test_send_group_reaches_process_specific_members" in failed


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
            "channel_layer": EagerTakingLayer(), "expiry_delay": 1.1, "cancel_safe_receive": claimed})
        result = unittest.TestResult()
        case(name).run(result)
        assert (len(result.failures), len(result.skipped)) == ((1, 0) if claimed else (0, 1))
