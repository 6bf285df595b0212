"""The in-memory layer: threads, capacity, expiry and reclaim, statistics, bad input."""
from __future__ import absolute_import, unicode_literals

import collections
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import pytest
import six

from asgiref import inmemory
from asgiref.inmemory import ChannelLayer
from tests.threads import in_thread

MIB = 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_ready_made_layer():
    assert isinstance(inmemory.channel_layer, ChannelLayer)
    assert inmemory.channel_layer.extensions[:3] == ["groups", "flush", "statistics"]


def test_async_is_listed_on_python_3_only_and_twisted_where_it_imports():
    extensions = ChannelLayer().extensions
    assert ("async" in extensions) is six.PY3
    assert hasattr(ChannelLayer, "receive_async") is six.PY3
    try:
        import twisted.internet.defer  # noqa: F401
    except ImportError:
        assert "twisted" not in extensions
    else:
        assert "twisted" in extensions


def test_without_twisted_it_is_not_listed_and_receive_twisted_says_what_is_missing():
    script = """
import sys
sys.modules["twisted"] = None
from asgiref.inmemory import ChannelLayer
layer = ChannelLayer()
assert "twisted" not in layer.extensions, layer.extensions
try:
    layer.receive_twisted(["c"])
except ImportError as error:
    print(error)
"""
    output = subprocess.check_output([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=ROOT))
    assert b'receive_twisted() needs Twisted (pip install ".[twisted]" in a checkout)' in output


def test_importing_the_layer_imports_neither_twisted_nor_on_python_2_asyncio():
    script = "import sys, asgiref.inmemory; print(sorted(set(['twisted', 'asyncio']) & set(sys.modules)))"
    output = subprocess.check_output([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=ROOT))
    assert output.strip() == (b"[]" if six.PY2 else b"['asyncio']")


def test_defaults_are_asgiref_1_1s():
    layer = ChannelLayer()
    assert (layer.expiry, layer.group_expiry, layer.capacity, layer.channel_capacity) == (60, 86400, 10, [])
    assert layer.max_message_size == MIB
    assert layer.receive_timeout == 5


@pytest.mark.parametrize("keywords, error, text", [
    ({"max_message_size": 0}, ValueError, "max_message_size must be at least 1"),
    ({"max_message_size": 1.5}, TypeError, "max_message_size must be an integer"),
    ({"receive_timeout": 0}, ValueError, "receive_timeout must be above 0"),
    ({"receive_timeout": None}, TypeError, "receive_timeout must be a number"),
    ({"receive_timeout": float("inf")}, ValueError, "receive_timeout must be a finite number above 0, not inf"),
    ({"receive_timeout": float("nan")}, ValueError, "receive_timeout must be a finite number above 0, not nan"),
    ({"capacity": -1}, ValueError, "capacity must be at least 1"),
])
def test_bad_constructor_arguments(keywords, error, text):
    with pytest.raises(error) as raised:
        ChannelLayer(**keywords)
    assert text in str(raised.value)


# Sending and receiving.

def test_receive_takes_the_message_that_waited_longest_across_channels():
    layer = ChannelLayer()
    layer.send("busy", {"n": 1})
    layer.send("quiet", {"n": 2})
    layer.send("busy", {"n": 3})
    layer.send("process!a", {"n": 4})
    layer.send("busy", {"n": 5})
    received = [layer.receive(["busy", "quiet", "process!"]) for _ in range(5)]
    assert [message["n"] for _, message in received] == [1, 2, 3, 4, 5]
    assert [channel for channel, _ in received] == ["busy", "quiet", "busy", "process!a", "busy"]


def test_a_received_message_is_the_receivers_own():
    layer = ChannelLayer()
    layer.group_add("g", "one")
    layer.group_add("g", "two")
    layer.send_group("g", {"list": [1]})
    _, first = layer.receive(["one"])
    first["list"].append(2)
    assert layer.receive(["two"]) == ("two", {"list": [1]})


def test_tuples_stay_tuples_as_in_asgiref_1_1():
    # Daphne 1.x sends headers as tuples and its tests compare them so.
    layer = ChannelLayer()
    layer.send("c", {"headers": [(b"host", b"example.com")], "client": ("1.2.3.4", 5)})
    assert layer.receive(["c"]) == ("c", {"headers": [(b"host", b"example.com")], "client": ("1.2.3.4", 5)})
    layer.group_add("g", "a")
    layer.send_group("g", {"pair": (1, 2)})
    assert type(layer.receive(["a"])[1]["pair"]) is tuple


def test_a_failed_send_leaves_what_was_queued_intact():
    layer = ChannelLayer(capacity=2, max_message_size=10)
    layer.send("c", {"n": 1})
    for bad in ({"n": set()}, {"body": b"x" * 11}, ["not", "a", "dict"]):
        with pytest.raises((TypeError, layer.MessageTooLarge)):
            layer.send("c", bad)
    layer.send("c", {"n": 2})
    with pytest.raises(layer.ChannelFull):
        layer.send("c", {"n": 3})
    assert [layer.receive(["c"]) for _ in range(3)] == [("c", {"n": 1}), ("c", {"n": 2}), (None, None)]


# New channels.

def test_new_channel_adds_twelve_unguessable_characters():
    layer = ChannelLayer()
    names = [layer.new_channel("http.response?") for _ in range(10000)]
    assert len(set(names)) == len(names)
    for name in names[:100]:
        assert re.match(r"http\.response\?[A-Za-z0-9_-]{12}\Z", name)
    # Every character of the alphabet shows up: the random part is not a counter.
    assert len(set("".join(name[-12:] for name in names))) == 64


def test_new_channel_uses_the_operating_systems_random_source(monkeypatch):
    monkeypatch.setattr(os, "urandom", lambda count: b"\x00" * count)
    assert ChannelLayer().new_channel("r?") == "r?AAAAAAAAAAAA"


@pytest.mark.parametrize("pattern", ["http.response!", "http.response", "", b"reply?", None, "bad pattern?"])
def test_new_channel_refuses_a_pattern_that_cannot_make_a_single_reader_name(pattern):
    with pytest.raises(TypeError):
        ChannelLayer().new_channel(pattern)


def test_new_channel_refuses_a_pattern_too_long_for_a_name():
    with pytest.raises(TypeError) as error:
        ChannelLayer().new_channel("x" * 90 + "?")
    assert "names must be under 100" in str(error.value)


# Capacity.

def test_glob_capacities_apply_per_channel():
    layer = ChannelLayer(capacity=3, channel_capacity=collections.OrderedDict([
        ("http.request", 1),
        ("http.*", 2),
        (re.compile(r"^daphne\.response\..*!$"), 4),
    ]))
    sent = collections.Counter()
    for channel in ["http.request", "http.disconnect", "websocket.receive", "daphne.response.X!a",
                    "daphne.response.X!b"] * 5:
        try:
            layer.send(channel, {})
            sent[layer.non_local_name(channel)] += 1
        except layer.ChannelFull:
            pass
    assert sent == {"http.request": 1, "http.disconnect": 2, "websocket.receive": 3, "daphne.response.X!": 4}


def test_channel_full_names_the_channel_and_its_capacity():
    layer = ChannelLayer(capacity=1)
    layer.send("process!a", {})
    with pytest.raises(layer.ChannelFull) as error:
        layer.send("process!b", {})
    assert "'process!b' is at its capacity of 1 messages" in str(error.value).replace("u'", "'")


# Message size.

def test_a_message_of_max_message_size_goes_through_and_one_byte_more_does_not():
    layer = ChannelLayer(max_message_size=MIB)
    # The message, the key "body" (a byte and 4), the value's byte: 7 bytes besides the body.
    layer.send("c", {"body": b"x" * (MIB - 7)})
    with pytest.raises(layer.MessageTooLarge) as error:
        layer.send("c", {"body": b"x" * (MIB - 20), "more": "y" * 8})
    assert "message size is %d bytes; this layer carries at most %d" % (MIB + 1, MIB) in str(error.value)
    assert len(layer.receive(["c"])[1]["body"]) == MIB - 7
    assert layer.receive(["c"]) == (None, None)


def test_a_message_that_json_encodes_to_1_mb_fits_the_default():
    layer = ChannelLayer()
    body = "x" * (1000 * 1000 - len('{"body":""}'))
    layer.send("c", {"body": body})
    assert layer.receive(["c"])[1]["body"] == body


def test_a_million_tiny_values_cannot_slip_past_the_size_limit():
    layer = ChannelLayer()
    with pytest.raises(layer.MessageTooLarge):
        layer.send("c", {"n": [0] * MIB})
    with pytest.raises(layer.MessageTooLarge):
        ChannelLayer(max_message_size=1000).send("c", {"n": [{}] * 1000})
    assert layer.receive(["c"]) == (None, None)


def test_max_message_size_none_carries_anything():
    layer = ChannelLayer(max_message_size=None)
    layer.send("c", {"body": b"x" * (3 * MIB)})
    assert len(layer.receive(["c"])[1]["body"]) == 3 * MIB


def test_send_group_over_the_limit_sends_to_nobody():
    layer = ChannelLayer(max_message_size=10)
    layer.group_add("g", "a")
    layer.group_add("g", "b")
    with pytest.raises(layer.MessageTooLarge):
        layer.send_group("g", {"body": b"x" * 11})
    assert layer.receive(["a", "b"]) == (None, None)


# Blocking receive.

# 1e300: beyond threading.TIMEOUT_MAX, where a timed wait would raise OverflowError.
@pytest.mark.parametrize("receive_timeout", [30, 1e300])
def test_a_blocked_receive_wakes_when_another_thread_sends(receive_timeout):
    layer = ChannelLayer(receive_timeout=receive_timeout)
    thread, result = in_thread(layer.receive, ["idle", "wanted"], True)
    time.sleep(0.1)
    assert result == []
    started = time.time()
    layer.send("wanted", {"n": 1})
    thread.join(10)
    assert result == [("wanted", {"n": 1})]
    # Woken by the send, not by the 30 s timeout.
    assert time.time() - started < 10


def test_a_blocked_prefix_receive_wakes_on_any_local_channel():
    layer = ChannelLayer(receive_timeout=30)
    thread, result = in_thread(layer.receive, ["daphne.response.X!"], True)
    time.sleep(0.05)
    layer.send("daphne.response.X!request7", {"status": 200})
    thread.join(10)
    assert result == [("daphne.response.X!request7", {"status": 200})]


def test_send_group_wakes_blocked_members():
    layer = ChannelLayer(receive_timeout=30)
    layer.group_add("g", "a")
    layer.group_add("g", "b")
    waiting = [in_thread(layer.receive, [channel], True) for channel in ("a", "b")]
    time.sleep(0.05)
    layer.send_group("g", {"hello": True})
    for thread, result in waiting:
        thread.join(10)
    assert sorted(result[0][0] for _, result in waiting) == ["a", "b"]


def test_each_send_wakes_one_of_several_waiters_and_none_is_forgotten():
    layer = ChannelLayer(receive_timeout=30)
    waiting = [in_thread(layer.receive, ["work"], True) for _ in range(5)]
    time.sleep(0.1)
    for n in range(5):
        layer.send("work", {"n": n})
    for thread, _ in waiting:
        thread.join(10)
    assert sorted(result[0][1]["n"] for _, result in waiting) == [0, 1, 2, 3, 4]


def test_a_waiter_on_several_channels_takes_one_message_and_leaves_the_rest_to_others():
    layer = ChannelLayer(receive_timeout=30)
    both = in_thread(layer.receive, ["x", "y"], True)
    time.sleep(0.05)
    only_y = in_thread(layer.receive, ["y"], True)
    time.sleep(0.05)
    layer.send("y", {"n": 1})
    layer.send("y", {"n": 2})
    for thread, _ in (both, only_y):
        thread.join(10)
    assert sorted([both[1][0][1]["n"], only_y[1][0][1]["n"]]) == [1, 2]


def test_a_blocked_receive_gives_up_after_receive_timeout():
    layer = ChannelLayer(receive_timeout=0.2)
    started = time.time()
    assert layer.receive(["nothing"], block=True) == (None, None)
    assert time.time() - started >= 0.2


def test_a_waiting_message_is_returned_at_once_with_block():
    layer = ChannelLayer(receive_timeout=30)
    layer.send("c", {"n": 1})
    started = time.time()
    assert layer.receive(["c"], block=True) == ("c", {"n": 1})
    assert time.time() - started < 10


def test_receivers_blocked_during_a_flush_keep_working():
    layer = ChannelLayer(receive_timeout=30)
    thread, result = in_thread(layer.receive, ["c"], True)
    time.sleep(0.05)
    layer.flush()
    time.sleep(0.05)
    layer.send("c", {"after": "flush"})
    thread.join(10)
    assert result == [("c", {"after": "flush"})]


def test_a_message_handed_to_a_receiver_as_it_times_out_is_still_returned():
    # Receivers that time out every few milliseconds race the sends that
    # hand them messages: each message still arrives exactly once.
    layer = ChannelLayer(capacity=1000, receive_timeout=0.002)
    received, done = [], threading.Event()

    def consume():
        while not done.is_set() or layer.global_statistics()["messages_pending"]:
            channel, message = layer.receive(["race"], block=True)
            if channel is not None:
                received.append(message["n"])

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for thread in consumers:
        thread.start()
    for n in range(3000):
        layer.send("race", {"n": n})
        if n % 50 == 0:
            time.sleep(0.001)
    done.set()
    for thread in consumers:
        thread.join(30)
    assert sorted(received) == list(range(3000))


# Threads.

def test_many_producers_and_consumers_deliver_each_message_exactly_once_in_order_per_producer():
    layer = ChannelLayer(capacity=50, receive_timeout=1)
    producers, consumers, per_producer = 4, 4, 1500
    received = collections.defaultdict(list)
    done = threading.Event()

    def produce(producer):
        for n in range(per_producer):
            while True:
                try:
                    layer.send("work", {"producer": producer, "n": n})
                    break
                except layer.ChannelFull:
                    time.sleep(0.0005)

    def consume(consumer):
        while not done.is_set():
            channel, message = layer.receive(["work"], block=True)
            if channel is not None:
                received[consumer].append((message["producer"], message["n"]))

    consuming = [threading.Thread(target=consume, args=(index,)) for index in range(consumers)]
    producing = [threading.Thread(target=produce, args=(index,)) for index in range(producers)]
    for thread in consuming + producing:
        thread.start()
    for thread in producing:
        thread.join(60)
    deadline = time.time() + 30
    while layer.global_statistics()["messages_pending"] and time.time() < deadline:
        time.sleep(0.01)
    done.set()
    for thread in consuming:
        thread.join(10)

    everything = sorted(item for items in received.values() for item in items)
    assert everything == sorted((producer, n) for producer in range(producers) for n in range(per_producer))
    # One reader sees each producer's messages in the order they were sent.
    for items in received.values():
        for producer in range(producers):
            sequence = [n for p, n in items if p == producer]
            assert sequence == sorted(sequence)
    assert layer.global_statistics()["messages_count"] == producers * per_producer


def test_a_single_reader_gets_everything_in_order_from_a_concurrent_producer():
    layer = ChannelLayer(capacity=10000, receive_timeout=1)
    name = layer.new_channel("body?")
    thread, _ = in_thread(lambda: [layer.send(name, {"n": n}) for n in range(5000)])
    received = []
    while len(received) < 5000:
        channel, message = layer.receive([name], block=True)
        assert channel == name
        received.append(message["n"])
    thread.join(10)
    assert received == list(range(5000))


def test_any_mix_of_concurrent_calls_keeps_the_layer_consistent():
    layer = ChannelLayer(capacity=20, expiry=0.5, group_expiry=0.5, receive_timeout=0.05)
    errors = []
    stop = threading.Event()

    def churn(seed):
        chooser = random.Random(seed)
        try:
            while not stop.is_set():
                channel = chooser.choice(["a", "b", "p!1", "p!2", "c"])
                action = chooser.randrange(8)
                try:
                    if action == 0:
                        layer.send(channel, {"n": chooser.random()})
                    elif action == 1:
                        layer.receive([layer.non_local_name(channel), "a"], block=chooser.random() < 0.3)
                    elif action == 2:
                        layer.group_add("g", channel)
                    elif action == 3:
                        layer.group_discard("g", channel)
                    elif action == 4:
                        layer.send_group("g", {"group": True})
                    elif action == 5:
                        layer.group_channels("g")
                        layer.channel_statistics(channel)
                    elif action == 6:
                        layer.new_channel("fresh?")
                    elif chooser.random() < 0.05:
                        layer.flush()
                except layer.ChannelFull:
                    pass
        except Exception as error:  # any other exception is a bug
            errors.append(error)

    threads = [threading.Thread(target=churn, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    pending = layer.global_statistics()["messages_pending"]
    drained = 0
    while layer.receive(["a", "b", "c", "p!"]) != (None, None):
        drained += 1
    assert drained == pending


# Expiry and reclaim.

def test_abandoned_channels_are_reclaimed_without_being_read():
    layer = ChannelLayer(expiry=1)
    names = [layer.new_channel("abandoned?") for _ in range(1000)]
    for name in names:
        layer.send(name, {"reply": "nobody reads"})
    layer.send("daphne.response.gone!x", {})
    assert layer.global_statistics()["messages_pending"] == 1001
    time.sleep(1.2)
    # Any call reclaims; nothing reads these channels again.
    assert layer.global_statistics()["messages_pending"] == 0
    assert layer.channel_statistics(names[0])["messages_count"] == 0
    # Nothing about them is kept, so they never accumulate.
    assert layer._queues == {}


def test_memberships_lapse_without_being_read():
    layer = ChannelLayer(group_expiry=0.1)
    for n in range(1000):
        layer.group_add("crowd", "member%d" % n)
    time.sleep(0.25)
    assert layer.group_channels("crowd") == []
    # Reclaimed a batch per call; global_statistics finishes the work.
    layer.global_statistics()
    assert (layer._groups, layer._memberships, layer._group_schedule) == ({}, {}, [])


def abandon(layer, count):
    """Send one message each to ``count`` new channels nobody reads; return their names."""
    names = [layer.new_channel("abandoned?") for _ in range(count)]
    for name in names:
        layer.send(name, {"reply": "nobody reads"})
    return names


def test_a_call_reclaims_a_bounded_batch_however_many_channels_expire_at_once():
    layer = ChannelLayer(expiry=0.3)
    names = abandon(layer, 5000)
    time.sleep(0.4)
    layer.send("fresh", {"n": 1})
    # One call did a batch of the work, not all 5000 channels' worth.
    assert len(layer._queues) > 4000
    # Yet nothing expired is seen anywhere.
    assert layer.receive([names[-1]]) == (None, None)
    assert layer.channel_statistics(names[-2]) == {
        "messages_count": 0, "messages_pending": 0, "messages_max_age": 0, "channel_full_count": 0}
    assert layer.global_statistics() == {"messages_count": 5001, "messages_pending": 1, "channel_full_count": 0}
    assert list(layer._queues) == ["fresh"]


def test_while_reclaim_is_behind_expired_messages_neither_fill_a_channel_nor_stay_in_groups():
    layer = ChannelLayer(expiry=0.3, capacity=1)
    abandon(layer, 5000)
    layer.send("full", {"old": True})
    layer.group_add("g", "gone!x")
    layer.group_add("g", "reader")
    layer.send("gone!x", {"old": True})
    time.sleep(0.4)
    layer.send("full", {"new": True})
    assert layer.channel_statistics("full")["messages_pending"] == 1
    assert layer.group_channels("g") == ["reader"]
    layer.send_group("g", {"group": True})
    assert layer.receive(["full"]) == ("full", {"new": True})
    assert layer.receive(["gone!"]) == (None, None)
    assert layer.receive(["reader"]) == ("reader", {"group": True})


def test_a_channel_forgotten_while_reclaim_is_behind_starts_its_statistics_again():
    layer = ChannelLayer(expiry=0.3)
    abandon(layer, 5000)
    layer.send("reused", {"n": 1})
    layer.receive(["reused"])
    time.sleep(0.4)
    layer.send("reused", {"n": 2})
    assert layer.channel_statistics("reused")["messages_count"] == 1


def test_lapsed_memberships_are_left_out_while_reclaim_is_behind():
    layer = ChannelLayer(group_expiry=0.3)
    for n in range(5000):
        layer.group_add("crowd", "member%d" % n)
    layer.group_add("small", "lapsed")
    time.sleep(0.4)
    layer.group_add("small", "fresh")
    assert layer.group_channels("small") == ["fresh"]
    layer.send_group("small", {"n": 1})
    assert layer.receive(["lapsed"]) == (None, None)
    assert layer.receive(["fresh"]) == ("fresh", {"n": 1})


def test_adding_a_member_again_restarts_its_group_expiry():
    layer = ChannelLayer(group_expiry=1)
    layer.group_add("g", "a")
    layer.group_add("g", "b")
    time.sleep(0.6)
    layer.group_add("g", "a")
    time.sleep(0.6)
    assert layer.group_channels("g") == ["a"]
    time.sleep(0.6)
    assert layer.group_channels("g") == []


def test_add_and_discard_churn_keeps_the_group_schedule_small():
    layer = ChannelLayer()
    for n in range(20000):
        layer.group_add("chat", "socket%d" % n)
        layer.group_discard("chat", "socket%d" % n)
    assert len(layer._group_schedule) <= 64 + 2


def test_a_channel_whose_message_expired_leaves_every_group():
    layer = ChannelLayer(expiry=0.5)
    for group in ("one", "two"):
        layer.group_add(group, "gone!x")
        layer.group_add(group, "reader")
    layer.send_group("one", {"n": 1})
    layer.receive(["reader"])
    time.sleep(0.7)
    assert layer.group_channels("one") == ["reader"]
    assert layer.group_channels("two") == ["reader"]


def test_an_expired_message_is_never_delivered_even_if_expiry_is_lowered_later():
    layer = ChannelLayer(expiry=60)
    layer.send("c", {"n": 1})
    time.sleep(0.05)
    layer.expiry = 0.01
    assert layer.receive(["c"]) == (None, None)


# Groups.

def test_a_full_member_misses_the_message_and_the_others_get_it():
    layer = ChannelLayer(capacity=1)
    layer.group_add("g", "full")
    layer.group_add("g", "free")
    layer.send("full", {"first": True})
    layer.send_group("g", {"group": True})
    assert layer.receive(["full"]) == ("full", {"first": True})
    assert layer.receive(["full"]) == (None, None)
    assert layer.receive(["free"]) == ("free", {"group": True})
    assert layer.channel_statistics("full")["channel_full_count"] == 1


def test_group_channels_is_a_snapshot():
    layer = ChannelLayer()
    layer.group_add("g", "a")
    members = layer.group_channels("g")
    layer.group_add("g", "b")
    layer.group_discard("g", "a")
    assert members == ["a"]
    assert isinstance(members, list)


def test_group_names_and_member_names_are_checked():
    layer = ChannelLayer()
    with pytest.raises(TypeError):
        layer.group_add("bad group", "a")
    with pytest.raises(TypeError):
        layer.group_add("g", "bad channel")
    with pytest.raises(TypeError):
        layer.group_discard("g?", "a")
    with pytest.raises(TypeError):
        layer.send_group(b"g", {})
    with pytest.raises(TypeError):
        layer.group_channels(None)


# Flush.

def test_flush_empties_messages_and_groups_and_keeps_the_totals():
    layer = ChannelLayer()
    layer.send("a", {})
    layer.group_add("g", "b")
    layer.flush()
    assert layer.receive(["a"]) == (None, None)
    assert layer.group_channels("g") == []
    assert layer.global_statistics() == {"messages_count": 1, "messages_pending": 0, "channel_full_count": 0}


# Statistics.

def test_statistics_count_what_happened():
    layer = ChannelLayer(capacity=2)
    layer.send("a", {})
    time.sleep(0.05)
    layer.send("a", {})
    with pytest.raises(layer.ChannelFull):
        layer.send("a", {})
    layer.send("p!x", {})
    layer.send("p!y", {})
    layer.receive(["p!"])
    assert layer.global_statistics() == {"messages_count": 4, "messages_pending": 3, "channel_full_count": 1}
    statistics = layer.channel_statistics("a")
    assert statistics["messages_max_age"] >= 0.05
    statistics.pop("messages_max_age")
    assert statistics == {"messages_count": 2, "messages_pending": 2, "channel_full_count": 1}
    # Local channels behind one prefix count together.
    assert layer.channel_statistics("p!anything")["messages_count"] == 2
    assert layer.channel_statistics("p!")["messages_pending"] == 1
    assert layer.channel_statistics("never.used") == {
        "messages_count": 0, "messages_pending": 0, "messages_max_age": 0, "channel_full_count": 0}


# Bad input.

@pytest.mark.parametrize("channel, text", [
    (b"http.request", "channel name must be text"),
    ("http request", "with at most one '?' or '!' type character; %r is not" % "http request"),
    ("reply?", "ends with '?'"),
    ("x" * 100, "names must be under 100"),
])
def test_send_refuses_a_bad_channel_name(channel, text):
    with pytest.raises(TypeError) as error:
        ChannelLayer().send(channel, {})
    assert text in str(error.value)


def test_the_constructor_takes_asgiref_1_1s_keywords_in_its_order_then_its_own():
    layer = ChannelLayer(30, 600, 3, {"big": 50}, 100, 0.5)
    assert (layer.expiry, layer.group_expiry, layer.capacity) == (30, 600, 3)
    assert (layer.get_capacity("big"), layer.max_message_size, layer.receive_timeout) == (50, 100, 0.5)


def test_a_channel_holds_ten_messages_by_default_as_in_asgiref_1_1():
    layer = ChannelLayer()
    for n in range(10):
        layer.send("c", {"n": n})
    with pytest.raises(layer.ChannelFull):
        layer.send("c", {"n": 10})


@pytest.mark.parametrize("make_channels", [
    lambda: set(["quiet", "c"]),
    lambda: ("quiet", "c"),
    lambda: frozenset(["c"]),
    lambda: (name for name in ["quiet", "c"]),
    lambda: {"quiet": None, "c": None}.keys(),
], ids=["set", "tuple", "frozenset", "generator", "dict keys"])
def test_receive_takes_any_iterable_of_names_as_channels_1_passes_a_set(make_channels):
    layer = ChannelLayer(receive_timeout=30)
    layer.send("c", {"n": 1})
    assert layer.receive(make_channels()) == ("c", {"n": 1})
    thread, result = in_thread(layer.receive, make_channels(), True)
    time.sleep(0.02)
    layer.send("c", {"n": 2})
    thread.join(10)
    assert result == [("c", {"n": 2})]


def test_receive_many_takes_a_set_as_channels_1_0_passes_it():
    layer = ChannelLayer()
    layer.send("reply!x", {"n": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert layer.receive_many(set(["http.request", "reply!"]), block=True) == ("reply!x", {"n": 1})


@pytest.mark.parametrize("call", [
    lambda layer: layer.receive("c"),
    lambda layer: layer.receive([]),
    lambda layer: layer.send("c", "not a dict"),
    lambda layer: layer.send_group("g", ["not", "a", "dict"]),
    lambda layer: layer.new_channel("c!"),
    lambda layer: layer.new_channel(b"c?"),
], ids=["receive a string", "receive nothing", "send a list", "send_group a list", "new_channel !",
        "new_channel bytes"])
def test_where_asgiref_1_1_asserted_the_error_is_also_an_assertion_error(call):
    with pytest.raises(AssertionError) as error:
        call(ChannelLayer())
    assert isinstance(error.value, TypeError)


@pytest.mark.parametrize("channels, text", [
    ("http.request", "channel names must be a list, tuple or set of channel names, not a single string"),
    ([], "channel names must be a non-empty list, tuple or set of channel names, not an empty list"),
    (None, "channel names must be a non-empty list, tuple or set of channel names, not NoneType"),
    (["ok", "process!local"], "receive on its process-specific prefix"),
    (["reply?"], "ends with '?'"),
])
def test_receive_refuses_bad_channel_names(channels, text):
    with pytest.raises(TypeError) as error:
        ChannelLayer().receive(channels)
    assert text in str(error.value)


class LooksLikeAnyName(six.text_type):
    """Text that claims to equal every string and hashes as a good name does."""

    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash("known")


def test_names_checked_before_are_remembered_only_as_plain_text():
    layer = ChannelLayer()
    layer.send("known", {"n": 1})
    assert layer.receive(["known"]) == ("known", {"n": 1})
    # A text subclass is checked for what it holds, whatever it claims to equal.
    with pytest.raises(TypeError) as error:
        layer.send(LooksLikeAnyName("bad name"), {})
    assert "'bad name' is not" in str(error.value)
    with pytest.raises(TypeError) as error:
        layer.receive([LooksLikeAnyName("bad name")])
    assert "'bad name' is not" in str(error.value)


def test_a_name_good_to_send_to_is_still_refused_to_receive_on():
    layer = ChannelLayer()
    layer.send("process!local", {"n": 1})
    with pytest.raises(TypeError) as error:
        layer.receive(["process!local"])
    assert "receive on its process-specific prefix" in str(error.value)
    assert layer.receive(["process!"]) == ("process!local", {"n": 1})


def test_remembered_names_stay_few_however_many_channels_are_used():
    layer = ChannelLayer(expiry=1)
    for n in range(5000):
        name = "reply.%d" % n
        layer.send(name, {})
        layer.receive([name])
    assert len(layer._sendable) <= 1024 and len(layer._receivable) <= 1024


def test_send_refuses_a_bad_message_naming_the_value():
    layer = ChannelLayer()
    with pytest.raises(TypeError) as error:
        layer.send("c", {"headers": [[b"a", b"b"], [b"c", b"d"], [bytearray(b"e"), b"f"]]})
    assert str(error.value).startswith("message['headers'][2][0]: bytearray is not allowed")
    with pytest.raises(TypeError) as error:
        layer.send("c", [("status", 200)])
    assert "message must be a dict, not list" in str(error.value)


BAD_INPUT_SCRIPT = r"""
from __future__ import unicode_literals
from asgiref.inmemory import ChannelLayer
layer = ChannelLayer(capacity=1, max_message_size=4)
checks = [
    (lambda: layer.send(b"c", {}), TypeError, "channel name must be text"),
    (lambda: layer.send("c", "text"), TypeError, "message must be a dict"),
    (lambda: layer.send("c", {"v": {1}}), TypeError, "message['v']: set is not allowed"),
    (lambda: layer.send("c", {"v": b"12345"}), layer.MessageTooLarge, "at most 4"),
    (lambda: layer.receive("c"), AssertionError, "not a single string"),
    (lambda: layer.send("c", ["text"]), AssertionError, "message must be a dict"),
    (lambda: layer.new_channel("c"), AssertionError, "ending in '?'"),
    (lambda: layer.receive(["c!x"]), TypeError, "process-specific prefix"),
    (lambda: layer.new_channel("c!"), TypeError, "ending in '?'"),
    (lambda: layer.group_add("g?", "c"), TypeError, "group name"),
    (lambda: ChannelLayer(capacity=0), ValueError, "capacity must be at least 1"),
]
layer.send("c", {})
checks.append((lambda: layer.send("c", {}), layer.ChannelFull, "capacity of 1"))
for call, error, text in checks:
    try:
        call()
    except error as raised:
        assert text in str(raised).replace("u'", "'"), (text, str(raised))
    else:
        raise SystemExit("no %s for %s" % (error.__name__, text))
print("all refused")
"""


def test_bad_input_is_refused_the_same_under_python_dash_o():
    # Outside the source tree, so the installed package is the one imported.
    output = subprocess.check_output([sys.executable, "-O", "-c", BAD_INPUT_SCRIPT], cwd=tempfile.gettempdir())
    assert output.strip() == b"all refused"


def test_receive_many_is_receive_with_a_deprecation_warning():
    layer = ChannelLayer()
    layer.send("c", {"n": 1})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert layer.receive_many(["c"]) == ("c", {"n": 1})
    assert caught[0].category is DeprecationWarning


def test_a_channel_listed_twice_is_waited_on_once():
    assert ChannelLayer(receive_timeout=0.1).receive(["a", "a"], block=True) == (None, None)
    layer = ChannelLayer(receive_timeout=30)
    thread, result = in_thread(layer.receive, ["a", "a"], True)
    time.sleep(0.02)
    layer.send("a", {})
    thread.join(10)
    assert result == [("a", {})]
