"""
The in-memory layer's receive_twisted, with a real reactor: the process's
global one, running in a daemon thread (asgiref.conformance.twisted_helpers).
"""
from __future__ import absolute_import, unicode_literals

import time

import pytest

from asgiref.inmemory import ChannelLayer
from tests.threads import in_thread, numbered_messages_in_thread

defer = pytest.importorskip("twisted.internet.defer")
from asgiref.conformance.twisted_helpers import in_reactor  # noqa: E402


def test_twisted_is_listed_where_it_imports():
    assert "twisted" in ChannelLayer().extensions


def test_a_waiting_message_comes_in_a_deferred_that_has_fired():
    layer = ChannelLayer()
    layer.send("busy", {"n": 1})
    layer.send("process!a", {"n": 2})

    def receive():
        deferred = layer.receive_twisted(["busy", "process!"])
        assert deferred.called
        return deferred
    assert [in_reactor(receive) for _ in range(2)] == [("busy", {"n": 1}), ("process!a", {"n": 2})]


def test_a_send_from_another_thread_fires_it():
    layer = ChannelLayer(receive_timeout=30)
    sender, _ = in_thread(lambda: time.sleep(0.2) or layer.send("reply!7", {"status": 200}))
    assert in_reactor(layer.receive_twisted, ["idle", "reply!"]) == ("reply!7", {"status": 200})
    sender.join(10)


def test_nothing_sent_fires_a_pair_of_none_after_receive_timeout():
    layer = ChannelLayer(receive_timeout=0.2)
    started = time.time()
    assert in_reactor(layer.receive_twisted, ["nothing"]) == (None, None)
    assert time.time() - started >= 0.2


def test_bad_channel_names_are_refused_as_by_receive():
    layer = ChannelLayer()
    with pytest.raises(TypeError) as raised:
        in_reactor(layer.receive_twisted, ["reply!7"])
    assert "receive on its process-specific prefix" in str(raised.value)


def test_each_send_fires_one_deferred_and_each_message_is_taken_once():
    layer = ChannelLayer(receive_timeout=30)
    threads = [in_thread(layer.receive, ["work"], True) for _ in range(2)]

    def receive_three():
        return defer.gatherResults([layer.receive_twisted(["work"]) for _ in range(3)])
    receiving, received = in_thread(in_reactor, receive_three)
    time.sleep(0.2)
    for n in range(5):
        layer.send("work", {"n": n})
    receiving.join(10)
    for thread, _ in threads:
        thread.join(10)
    everything = received[0] + [result[0] for _, result in threads]
    assert sorted(message["n"] for _, message in everything) == [0, 1, 2, 3, 4]


def test_a_deferred_cancelled_after_its_wake_up_passes_the_message_to_another_waiter():
    layer = ChannelLayer(receive_timeout=30)
    from twisted.internet import reactor, task

    def cancel_the_first():
        first = layer.receive_twisted(["c"])
        second = layer.receive_twisted(["c"])
        first.addErrback(lambda failure: failure.trap(defer.CancelledError) and "cancelled")

        def send_and_cancel():
            # The send wakes the first waiter; its wake-up is on its way when it is cancelled.
            layer.send("c", {"n": 1})
            first.cancel()
            return defer.gatherResults([first, second])
        return task.deferLater(reactor, 0.1, send_and_cancel)
    assert in_reactor(cancel_the_first) == ["cancelled", ("c", {"n": 1})]


def test_a_single_reader_loop_gets_everything_in_order_from_a_thread():
    # Daphne 1.x's reader: receive_twisted again as soon as each fires.
    layer = ChannelLayer(capacity=10, receive_timeout=30)

    def consume():
        received, done = [], defer.Deferred()

        def receive_next(_=None):
            while len(received) < 500:
                receiving = layer.receive_twisted(["reply!"])
                receiving.addCallback(lambda pair: received.append(pair[1]["n"]))
                if not receiving.called:
                    receiving.addCallback(receive_next)
                    return
            done.callback(received)
        receive_next()
        return done
    producer = numbered_messages_in_thread(layer, "reply!", 500)
    assert in_reactor(consume, timeout=60) == list(range(500))
    producer.join(10)
