"""
The ASGI 1 conformance suite: every promise of spec sections 1-4 that a
channel layer can be held to, as a ``unittest.TestCase`` base class.

    from asgiref.conformance import ConformanceTestCase

    class MyLayerTests(ConformanceTestCase):
        channel_layer = MyLayer(expiry=1, group_expiry=2, capacity=5)
        expiry_delay = 1.1
        capacity_limit = 5

The layer should start empty. It is flushed before each test if it lists the
``flush`` extension. Tests of an extension run only when the layer lists it.

The tests of asgiref 1.1's suite keep their names and meaning
(``test_send_recv``, ``test_group_channels``, ... all 18 are listed in
``ASGIREF_1_1_TESTS``), so a subclass that overrides one by name, to skip or
replace it, still does; the other tests never lean on what those cover
alone (only ``test_group_channels`` needs ``group_channels``).

Promises newer than asgiref 1.1 are checked only for a layer that opts in,
so a layer that passed 1.1's suite passes this one unchanged (asgi_redis
1.4's among them, although some list ``twisted``):

``strict_messages``
    ``send`` and ``send_group`` refuse anything but the ASGI message types
    with ``TypeError``.
``tuples_as_lists``
    Tuples in a message arrive as lists, as through any serialising layer
    (asgiref 1.1's in-memory layer, and this package's, keep them tuples).
``message_size_limit``
    The payload size (bytes) above which the layer raises MessageTooLarge.
    A message of 1 MB must still go through.
``blocking_receive``
    ``receive(block=True)`` waits for, and wakes on, a send from another
    thread.
``expiry_leaves_groups``
    A channel whose message expired unread leaves every group it was in.
``exact_statistics``
    The statistics count exactly: ``messages_pending`` and ``messages_count``
    of a channel match what was sent to it.
``async_receive``
    For a layer that lists ``async`` (Python 3): ``receive_async`` returns a
    waiting message, wakes on a send from another thread, and returns
    ``(None, None)`` when nothing comes within the layer's receive timeout
    (which must be under 10 seconds).
``async_send``
    For a layer that lists ``async`` and has a ``send_async`` coroutine (an
    addition of this package's Redis layer, which the ASGI 3 front awaits
    where a layer has it): it stores what ``receive`` returns, and raises
    ChannelFull at capacity.
``twisted_receive``
    For a layer that lists ``twisted``: ``receive_twisted`` returns a
    waiting message, wakes on a send from another thread, and fires with
    ``(None, None)`` when nothing comes (as ``async_receive``).
``cancel_safe_receive``
    A cancelled ``receive_async`` or ``receive_twisted`` takes no message
    (checked along with ``async_receive`` or ``twisted_receive``).

No test leaves an event loop or reactor state behind: each async test runs
on a new event loop that it closes, and each Twisted test runs the global
reactor in the test's thread only until its Deferred fires, then stops it
and takes away the timed calls, connections and thread pool it left (see
``asgiref.conformance.twisted_helpers``), so a trial suite can run after it.
"""
from __future__ import unicode_literals

import threading
import time
import unittest

import six

_STATISTICS = frozenset([
    "messages_count", "messages_pending", "messages_max_age", "channel_full_count",
    "messages_count_per_second", "channel_full_count_per_second",
])

#: The test methods of asgiref 1.1.2's ConformanceTestCase, kept by name.
ASGIREF_1_1_TESTS = (
    "test_send_recv", "test_single_process_receive", "test_single_process_receive_error",
    "test_message_expiry", "test_new_channel_single_reader", "test_new_channel_failures", "test_strings",
    "test_groups", "test_groups_process", "test_group_channels", "test_flush", "test_flush_groups",
    "test_group_expiry", "test_capacity", "test_capacity_process", "test_capacity_group", "test_exceptions",
    "test_message_alteration_after_send",
)

# The methods each extension of spec section 3 requires.
_EXTENSION_METHODS = {
    "groups": ["group_add", "group_discard", "group_channels", "send_group"],
    "flush": ["flush"],
    "statistics": ["global_statistics", "channel_statistics"],
    "async": ["receive_async"],
    "twisted": ["receive_twisted"],
}


class ConformanceTestCase(unittest.TestCase):
    """Subclass this, setting ``channel_layer`` and ``expiry_delay``, to check a layer."""

    #: The layer under test.
    channel_layer = None
    #: Seconds to wait for a message to expire: a little over the layer's expiry.
    expiry_delay = None
    #: The layer's capacity for the test channels; None skips the capacity tests.
    capacity_limit = None
    #: How many receive calls a test may spend before deciding nothing is there.
    receive_tries = 1

    strict_messages = False
    tuples_as_lists = False
    message_size_limit = None
    blocking_receive = False
    expiry_leaves_groups = False
    exact_statistics = False
    async_receive = False
    async_send = False
    twisted_receive = False
    cancel_safe_receive = False

    @classmethod
    def setUpClass(cls):
        if cls is ConformanceTestCase:
            raise unittest.SkipTest("the conformance suite runs in subclasses that set channel_layer")
        super(ConformanceTestCase, cls).setUpClass()

    def setUp(self):
        # The base class, imported into a test module, is collected there too;
        # setUpClass alone does not always skip it under pytest.
        if type(self) is ConformanceTestCase:
            raise unittest.SkipTest("the conformance suite runs in subclasses that set channel_layer")
        if self.channel_layer is None:
            raise ValueError("set channel_layer on %s to the layer to test" % type(self).__name__)
        if self.expiry_delay is None:
            raise ValueError("set expiry_delay on %s to a little over the layer's expiry" % type(self).__name__)
        if "flush" in self.channel_layer.extensions:
            self.channel_layer.flush()

    # Helpers.

    def receive(self, channels):
        """Receive as the layer allows: up to ``receive_tries`` calls."""
        for _ in range(self.receive_tries):
            channel, message = self.channel_layer.receive(channels)
            if channel is not None:
                return channel, message
        return None, None

    def assertNothingOn(self, channels):
        self.assertEqual(self.receive(channels), (None, None))

    def skip_if_no_extension(self, extension):
        if extension not in self.channel_layer.extensions:
            raise unittest.SkipTest("the layer does not list the %r extension" % extension)

    def requires(self, promise):
        if not getattr(self, promise):
            raise unittest.SkipTest("set %s on the test case to check this promise" % promise)

    def requires_capacity(self, at_least=1):
        if self.capacity_limit is None or self.capacity_limit < at_least:
            raise unittest.SkipTest("set capacity_limit (at least %d) to check capacity" % at_least)

    # Sending and receiving.

    def test_send_recv(self):
        for colour in ("red", "green", "blue"):
            self.channel_layer.send("conformance.colours", {"colour": colour})
        self.channel_layer.send("conformance.other", {"colour": "yellow"})
        received = [self.receive(["conformance.colours"]) for _ in range(3)]
        self.assertEqual([channel for channel, _ in received], ["conformance.colours"] * 3)
        # A normal channel may be sharded: every message arrives, order is best-effort.
        self.assertEqual(sorted(message["colour"] for _, message in received), ["blue", "green", "red"])
        self.assertNothingOn(["conformance.colours"])
        self.assertEqual(
            self.receive(["conformance.colours", "conformance.other"]), ("conformance.other", {"colour": "yellow"}))

    def test_receive_with_nothing_waiting_returns_a_pair_of_none(self):
        self.assertEqual(self.channel_layer.receive(["conformance.empty"]), (None, None))

    def test_receive_on_several_channels_misses_none(self):
        self.channel_layer.send("conformance.left", {"side": "left"})
        self.channel_layer.send("conformance.right", {"side": "right"})
        channels = ["conformance.left", "conformance.right"]
        received = sorted(self.receive(channels)[0] for _ in range(2))
        self.assertEqual(received, channels)
        self.assertNothingOn(channels)

    # Process-specific channels.

    def test_single_process_receive(self):
        self.channel_layer.send("conformance.process!one", {"n": 1})
        self.assertEqual(self.receive(["conformance.process!"]), ("conformance.process!one", {"n": 1}))
        self.channel_layer.send("conformance.process!two", {"n": 2})
        self.assertEqual(self.receive(["conformance.process!"]), ("conformance.process!two", {"n": 2}))

    def test_single_process_receive_keeps_the_order_of_sends(self):
        self.channel_layer.send("conformance.process!one", {"n": 1})
        self.channel_layer.send("conformance.process!two", {"n": 2})
        self.channel_layer.send("conformance.process!one", {"n": 3})
        received = [self.receive(["conformance.process!"]) for _ in range(3)]
        self.assertEqual(received, [
            ("conformance.process!one", {"n": 1}),
            ("conformance.process!two", {"n": 2}),
            ("conformance.process!one", {"n": 3}),
        ])
        self.assertNothingOn(["conformance.process!"])

    def test_single_process_receive_error(self):
        with self.assertRaises(Exception):
            self.channel_layer.receive(["conformance.process!one"])

    # Single-reader channels.

    def test_new_channel_single_reader(self):
        name = self.channel_layer.new_channel("conformance.reply?")
        self.assertIsInstance(name, six.text_type)
        self.assertTrue(name.startswith("conformance.reply?"))
        self.assertGreater(len(name), len("conformance.reply?"))
        self.assertEqual(name.count("?"), 1)
        self.assertNotIn("!", name)
        # A name with a message waiting is in use: the next one differs.
        self.channel_layer.send(name, {"value": "waiting"})
        second = self.channel_layer.new_channel("conformance.reply?")
        self.assertNotEqual(name, second)
        self.assertEqual(self.receive([second, name]), (name, {"value": "waiting"}))

    def test_single_reader_channel_delivers_in_order(self):
        name = self.channel_layer.new_channel("conformance.reply?")
        for n in range(5):
            self.channel_layer.send(name, {"n": n})
        self.assertEqual([self.receive([name]) for _ in range(5)], [(name, {"n": n}) for n in range(5)])
        self.assertNothingOn([name])

    def test_new_channel_names_differ(self):
        names = set(self.channel_layer.new_channel("conformance.reply?") for _ in range(50))
        self.assertEqual(len(names), 50)

    def test_new_channel_failures(self):
        for pattern in ("conformance.process!", "conformance.normal"):
            with self.assertRaises(Exception):
                self.channel_layer.new_channel(pattern)

    # Message contents.

    def test_strings(self):
        message = {
            "bytes": b"\xc2\xa3 \x00\x01\xff",
            "text": "\u00a3 \x00 \U0001F612",
            "empty": [b"", ""],
            "nested": {"deeper": [{"bytes": b"\x00", "text": "\U0001F600\u2603"}]},
        }
        self.channel_layer.send("conformance.strings", message)
        _, received = self.receive(["conformance.strings"])
        self.assertEqual(received, message)
        self.assertIsInstance(received["bytes"], six.binary_type)
        self.assertIsInstance(received["text"], six.text_type)
        self.assertIsInstance(received["empty"][0], six.binary_type)
        self.assertIsInstance(received["empty"][1], six.text_type)
        self.assertIsInstance(received["nested"]["deeper"][0]["bytes"], six.binary_type)
        self.assertIsInstance(received["nested"]["deeper"][0]["text"], six.text_type)
        self.assertEqual(len(received["text"]), 5)

    def test_numbers_booleans_and_none_keep_their_value(self):
        message = {"ints": [0, -1, 2 ** 63 - 1, -2 ** 63], "float": 0.25, "yes": True, "no": False, "none": None}
        self.channel_layer.send("conformance.scalars", message)
        _, received = self.receive(["conformance.scalars"])
        self.assertEqual(received, message)
        self.assertIs(received["yes"], True)
        self.assertIs(received["no"], False)

    def test_message_alteration_after_send(self):
        message = {"list": [1, 2, 3], "dict": {"key": "value"}, "headers": [[b"a", b"b"]]}
        self.channel_layer.send("conformance.mutation", message)
        message["list"][0] = "changed"
        message["dict"]["key"] = "changed"
        message["headers"][0][1] = b"changed"
        message["added"] = True
        _, received = self.receive(["conformance.mutation"])
        self.assertEqual(received, {"list": [1, 2, 3], "dict": {"key": "value"}, "headers": [[b"a", b"b"]]})

    # Expiry.

    def test_message_expiry(self):
        self.channel_layer.send("conformance.expiry", {"value": "stale"})
        time.sleep(self.expiry_delay)
        self.assertNothingOn(["conformance.expiry"])

    # Capacity.

    def test_capacity(self):
        self.requires_capacity()
        for _ in range(self.capacity_limit):
            self.channel_layer.send("conformance.capacity", {"full": False})
        with self.assertRaises(self.channel_layer.ChannelFull):
            self.channel_layer.send("conformance.capacity", {"full": True})

    def test_receiving_from_a_full_channel_makes_room(self):
        self.requires_capacity()
        for _ in range(self.capacity_limit):
            self.channel_layer.send("conformance.capacity", {"first": True})
        self.assertEqual(self.receive(["conformance.capacity"])[0], "conformance.capacity")
        self.channel_layer.send("conformance.capacity", {"first": False})

    def test_capacity_process(self):
        self.requires_capacity(2)
        for n in range(self.capacity_limit):
            self.channel_layer.send("conformance.shared!%d" % n, {"n": n})
        with self.assertRaises(self.channel_layer.ChannelFull):
            self.channel_layer.send("conformance.shared!last", {"n": "last"})

    # Groups.

    def test_groups(self):
        self.skip_if_no_extension("groups")
        for member in ("conformance.member1", "conformance.member2", "conformance.leaves"):
            self.channel_layer.group_add("conformance-group", member)
        self.channel_layer.group_discard("conformance-group", "conformance.leaves")
        self.channel_layer.send_group("conformance-group", {"value": "hello"})
        self.assertEqual(self.receive(["conformance.member1"]), ("conformance.member1", {"value": "hello"}))
        self.assertEqual(self.receive(["conformance.member2"]), ("conformance.member2", {"value": "hello"}))
        self.assertNothingOn(["conformance.leaves"])

    def test_adding_a_member_twice_delivers_once(self):
        self.skip_if_no_extension("groups")
        self.channel_layer.group_add("conformance-group", "conformance.twice")
        self.channel_layer.group_add("conformance-group", "conformance.twice")
        self.channel_layer.send_group("conformance-group", {"value": "once"})
        self.assertEqual(self.receive(["conformance.twice"])[0], "conformance.twice")
        self.assertNothingOn(["conformance.twice"])

    def test_discarding_a_non_member_is_silent(self):
        self.skip_if_no_extension("groups")
        self.channel_layer.group_discard("conformance-nobody", "conformance.stranger")
        self.channel_layer.group_add("conformance-group", "conformance.member")
        self.channel_layer.group_discard("conformance-group", "conformance.stranger")
        self.channel_layer.send_group("conformance-group", {"value": "still here"})
        self.assertEqual(self.receive(["conformance.member"]), ("conformance.member", {"value": "still here"}))

    def test_group_channels(self):
        self.skip_if_no_extension("groups")
        for member in ("conformance.a", "conformance.b", "conformance.c"):
            self.channel_layer.group_add("conformance-group", member)
        self.assertEqual(
            set(self.channel_layer.group_channels("conformance-group")),
            set(["conformance.a", "conformance.b", "conformance.c"]))
        self.channel_layer.group_discard("conformance-group", "conformance.b")
        self.assertEqual(
            set(self.channel_layer.group_channels("conformance-group")), set(["conformance.a", "conformance.c"]))
        self.assertEqual(list(self.channel_layer.group_channels("conformance-empty")), [])
        if "flush" in self.channel_layer.extensions:
            self.channel_layer.flush()
            self.assertEqual(list(self.channel_layer.group_channels("conformance-group")), [])

    def test_groups_process(self):
        self.skip_if_no_extension("groups")
        for member in ("conformance.process!one", "conformance.process!leaves", "conformance.process!two"):
            self.channel_layer.group_add("conformance-group", member)
        self.channel_layer.group_discard("conformance-group", "conformance.process!leaves")
        self.channel_layer.send_group("conformance-group", {"value": "hello"})
        received = [self.receive(["conformance.process!"]) for _ in range(2)]
        self.assertEqual(
            sorted(received), [("conformance.process!one", {"value": "hello"}),
                               ("conformance.process!two", {"value": "hello"})])
        self.assertNothingOn(["conformance.process!"])

    def test_capacity_group(self):
        self.skip_if_no_extension("groups")
        self.requires_capacity()
        self.channel_layer.group_add("conformance-group", "conformance.full")
        for n in range(self.capacity_limit + 2):
            self.channel_layer.send_group("conformance-group", {"n": n})
        received = [self.receive(["conformance.full"]) for _ in range(self.capacity_limit)]
        self.assertEqual(sorted(message["n"] for _, message in received), list(range(self.capacity_limit)))
        self.assertNothingOn(["conformance.full"])

    def test_group_expiry(self):
        self.skip_if_no_extension("groups")
        group_expiry = getattr(self.channel_layer, "group_expiry", None)
        self.assertIsNotNone(group_expiry, "a layer with groups must have group_expiry")
        if group_expiry > 20:
            raise unittest.SkipTest("group_expiry is too long to wait for (over 20 seconds)")
        self.channel_layer.group_add("conformance-group", "conformance.lapses")
        time.sleep(group_expiry + 1)
        self.channel_layer.send_group("conformance-group", {"value": "too late"})
        self.assertNothingOn(["conformance.lapses"])

    def test_a_channel_whose_message_expired_leaves_its_groups(self):
        self.skip_if_no_extension("groups")
        self.requires("expiry_leaves_groups")
        self.channel_layer.group_add("conformance-group", "conformance.gone")
        self.channel_layer.group_add("conformance-group", "conformance.reading")
        self.channel_layer.send_group("conformance-group", {"value": "unread"})
        self.receive(["conformance.reading"])
        time.sleep(self.expiry_delay)
        self.assertNothingOn(["conformance.gone"])
        self.channel_layer.send_group("conformance-group", {"value": "after"})
        self.assertNothingOn(["conformance.gone"])
        self.assertEqual(self.receive(["conformance.reading"]), ("conformance.reading", {"value": "after"}))

    # Flush.

    def test_flush(self):
        self.skip_if_no_extension("flush")
        self.channel_layer.send("conformance.flushed", {"value": "gone"})
        self.channel_layer.send("conformance.process!local", {"value": "gone"})
        self.channel_layer.flush()
        self.assertNothingOn(["conformance.flushed", "conformance.process!"])

    def test_flush_groups(self):
        self.skip_if_no_extension("flush")
        self.skip_if_no_extension("groups")
        self.channel_layer.group_add("conformance-group", "conformance.flushed")
        self.channel_layer.flush()
        self.channel_layer.send_group("conformance-group", {"value": "nobody"})
        self.assertNothingOn(["conformance.flushed"])

    # Exceptions and extensions.

    def test_exceptions(self):
        self.assertTrue(issubclass(self.channel_layer.ChannelFull, Exception))
        self.assertTrue(issubclass(self.channel_layer.MessageTooLarge, Exception))

    def test_each_listed_extension_has_its_methods(self):
        for extension in self.channel_layer.extensions:
            for method in _EXTENSION_METHODS.get(extension, []):
                self.assertTrue(
                    callable(getattr(self.channel_layer, method, None)),
                    "the layer lists %r but has no %s()" % (extension, method))

    def test_async_is_listed_if_and_only_if_receive_async_exists(self):
        listed = "async" in self.channel_layer.extensions
        self.assertEqual(
            listed, hasattr(self.channel_layer, "receive_async"),
            "'async' must be listed exactly when the layer has receive_async()")

    # Statistics.

    def assertStatistics(self, statistics):
        self.assertIsInstance(statistics, dict)
        self.assertLessEqual(set(statistics), _STATISTICS, "unknown statistics keys")
        for key, value in statistics.items():
            self.assertIsInstance(value, six.integer_types + (float,), key)
            self.assertGreaterEqual(value, 0, key)

    def test_global_statistics(self):
        self.skip_if_no_extension("statistics")
        self.channel_layer.send("conformance.counted", {"n": 1})
        self.assertStatistics(self.channel_layer.global_statistics())

    def test_channel_statistics(self):
        self.skip_if_no_extension("statistics")
        self.channel_layer.send("conformance.counted", {"n": 1})
        self.channel_layer.send("conformance.counted", {"n": 2})
        self.assertStatistics(self.channel_layer.channel_statistics("conformance.counted"))

    def test_channel_statistics_count_what_was_sent_and_received(self):
        self.skip_if_no_extension("statistics")
        self.requires("exact_statistics")
        for n in range(3):
            self.channel_layer.send("conformance.counted", {"n": n})
        self.receive(["conformance.counted"])
        statistics = self.channel_layer.channel_statistics("conformance.counted")
        self.assertEqual(statistics.get("messages_pending", 2), 2)
        self.assertEqual(statistics.get("messages_count", 3), 3)

    # Opt-in: strict message types.

    def test_a_message_that_is_not_a_dict_is_refused(self):
        self.requires("strict_messages")
        for message in (None, [("key", "value")], "text", b"bytes"):
            with self.assertRaises(TypeError):
                self.channel_layer.send("conformance.strict", message)
        self.assertNothingOn(["conformance.strict"])

    def test_values_outside_the_asgi_types_are_refused(self):
        self.requires("strict_messages")
        for value in (bytearray(b"x"), set([1]), object(), 1j, 2 ** 63, -2 ** 63 - 1):
            with self.assertRaises(TypeError):
                self.channel_layer.send("conformance.strict", {"nested": [{"value": value}]})
        with self.assertRaises(TypeError):
            self.channel_layer.send("conformance.strict", {1: "non-text key"})
        self.assertNothingOn(["conformance.strict"])

    def test_send_group_refuses_bad_values_before_sending_anything(self):
        self.requires("strict_messages")
        self.skip_if_no_extension("groups")
        self.channel_layer.group_add("conformance-group", "conformance.strict")
        with self.assertRaises(TypeError):
            self.channel_layer.send_group("conformance-group", {"value": set()})
        self.assertNothingOn(["conformance.strict"])

    def test_tuples_arrive_as_lists(self):
        self.requires("tuples_as_lists")
        self.channel_layer.send("conformance.tuples", {"pair": (b"a", (1, 2))})
        _, received = self.receive(["conformance.tuples"])
        self.assertEqual(received, {"pair": [b"a", [1, 2]]})
        self.assertIsInstance(received["pair"], list)

    # Opt-in: message size.

    def test_a_one_megabyte_message_goes_through(self):
        self.requires("message_size_limit")
        body = b"x" * (1000 * 1000 - 100)
        self.channel_layer.send("conformance.large", {"body": body})
        _, received = self.receive(["conformance.large"])
        self.assertEqual(received["body"], body)

    def test_a_message_over_the_limit_raises_message_too_large(self):
        self.requires("message_size_limit")
        self.channel_layer.send("conformance.large", {"n": 1})
        with self.assertRaises(self.channel_layer.MessageTooLarge):
            self.channel_layer.send("conformance.large", {"body": b"x" * (self.message_size_limit + 1)})
        self.assertEqual(self.receive(["conformance.large"]), ("conformance.large", {"n": 1}))
        self.assertNothingOn(["conformance.large"])

    def test_send_group_over_the_limit_raises_message_too_large(self):
        self.requires("message_size_limit")
        self.skip_if_no_extension("groups")
        self.channel_layer.group_add("conformance-group", "conformance.large")
        with self.assertRaises(self.channel_layer.MessageTooLarge):
            self.channel_layer.send_group("conformance-group", {"body": b"x" * (self.message_size_limit + 1)})
        self.assertNothingOn(["conformance.large"])

    # Opt-in: blocking receive.

    def receive_blocking_in_thread(self, channels):
        """Start a thread that receives with block=True until it gets a message (at most 10 s)."""
        result = []

        def receive():
            deadline = time.time() + 10
            while time.time() < deadline:
                channel, message = self.channel_layer.receive(channels, block=True)
                if channel is not None:
                    result.append((channel, message))
                    return
        thread = threading.Thread(target=receive)
        thread.daemon = True
        thread.start()
        return thread, result

    def test_blocking_receive_returns_a_waiting_message(self):
        self.requires("blocking_receive")
        self.channel_layer.send("conformance.blocking", {"n": 1})
        self.assertEqual(
            self.channel_layer.receive(["conformance.blocking"], block=True), ("conformance.blocking", {"n": 1}))

    def test_blocking_receive_wakes_on_a_send_from_another_thread(self):
        self.requires("blocking_receive")
        thread, result = self.receive_blocking_in_thread(["conformance.idle", "conformance.process!"])
        time.sleep(0.2)
        self.assertEqual(result, [], "receive(block=True) returned before anything was sent")
        self.channel_layer.send("conformance.process!local", {"n": 1})
        thread.join(10)
        self.assertEqual(result, [("conformance.process!local", {"n": 1})])

    # Opt-in extensions: receive_async, send_async and receive_twisted, for
    # a layer that lists "async" or "twisted" and opts in. Each test waits
    # at most 10 seconds for a receive, so the layer's own receive timeout
    # must be shorter (and over 0.2 seconds). The event-loop side of the
    # async tests is in asgiref.conformance.async_helpers (Python 3 only), the
    # reactor side of the twisted tests in asgiref.conformance.twisted_helpers.

    def async_helpers(self, promise="async_receive"):
        self.requires(promise)
        self.skip_if_no_extension("async")
        if six.PY2:
            raise unittest.SkipTest("receive_async needs Python 3")
        from . import async_helpers
        return async_helpers

    def twisted_helpers(self):
        self.requires("twisted_receive")
        self.skip_if_no_extension("twisted")
        from . import twisted_helpers
        return twisted_helpers

    def assertReceivedOnce(self, returned, channel, message):
        """``message`` came back exactly once: from the cancelled receive, or from a receive after it."""
        later = self.receive([channel])
        received = [pair for pair in returned + [later] if pair != (None, None)]
        self.assertEqual(received, [(channel, message)])

    def test_receive_async_returns_a_waiting_message(self):
        helpers = self.async_helpers()
        self.channel_layer.send("conformance.async", {"n": 1})
        self.assertEqual(helpers.receive(self.channel_layer, ["conformance.async"]), ("conformance.async", {"n": 1}))

    def test_receive_async_wakes_on_a_send_from_another_thread(self):
        helpers = self.async_helpers()
        received, early = helpers.receive_during(
            self.channel_layer, ["conformance.idle", "conformance.process!"],
            lambda: self.channel_layer.send("conformance.process!local", {"n": 1}))
        self.assertFalse(early, "receive_async() returned before anything was sent")
        self.assertEqual(received, ("conformance.process!local", {"n": 1}))

    def test_receive_async_returns_a_pair_of_none_when_nothing_comes(self):
        helpers = self.async_helpers()
        self.assertEqual(helpers.receive(self.channel_layer, ["conformance.empty"]), (None, None))

    def test_a_cancelled_receive_async_loses_no_message(self):
        helpers = self.async_helpers()
        self.requires("cancel_safe_receive")
        returned = helpers.cancel_after_send(self.channel_layer, "conformance.cancelled", {"n": 1})
        self.assertReceivedOnce(returned, "conformance.cancelled", {"n": 1})

    def test_send_async_stores_what_receive_returns(self):
        helpers = self.async_helpers("async_send")
        if not hasattr(self.channel_layer, "send_async"):
            raise unittest.SkipTest("the layer has no send_async")
        helpers.send_each(self.channel_layer, [("conformance.sent", {"n": 0})]
                          + [("conformance.process!sent%d" % n, {"n": n}) for n in range(1, 4)])
        self.assertEqual(self.receive(["conformance.sent"]), ("conformance.sent", {"n": 0}))
        self.assertEqual([self.receive(["conformance.process!"]) for _ in range(3)],
                         [("conformance.process!sent%d" % n, {"n": n}) for n in range(1, 4)])

    def test_send_async_raises_channel_full_at_capacity(self):
        helpers = self.async_helpers("async_send")
        if not hasattr(self.channel_layer, "send_async"):
            raise unittest.SkipTest("the layer has no send_async")
        self.requires_capacity()
        helpers.send_each(self.channel_layer, [("conformance.capacity", {"n": n}) for n in range(self.capacity_limit)])
        with self.assertRaises(self.channel_layer.ChannelFull):
            helpers.send_each(self.channel_layer, [("conformance.capacity", {"n": "over"})])

    def test_receive_twisted_returns_a_waiting_message(self):
        helpers = self.twisted_helpers()
        self.channel_layer.send("conformance.twisted", {"n": 1})
        self.assertEqual(
            helpers.in_reactor(self.channel_layer.receive_twisted, ["conformance.twisted"]),
            ("conformance.twisted", {"n": 1}))

    def test_receive_twisted_wakes_on_a_send_from_another_thread(self):
        helpers = self.twisted_helpers()
        sending = threading.Event()

        def send():
            sending.set()
            self.channel_layer.send("conformance.process!local", {"n": 1})
        threading.Timer(0.2, send).start()
        received = helpers.in_reactor(self.channel_layer.receive_twisted, ["conformance.idle", "conformance.process!"])
        self.assertTrue(sending.is_set(), "receive_twisted() fired before anything was sent")
        self.assertEqual(received, ("conformance.process!local", {"n": 1}))

    def test_receive_twisted_returns_a_pair_of_none_when_nothing_comes(self):
        helpers = self.twisted_helpers()
        self.assertEqual(helpers.in_reactor(self.channel_layer.receive_twisted, ["conformance.empty"]), (None, None))

    def test_a_cancelled_receive_twisted_loses_no_message(self):
        helpers = self.twisted_helpers()
        self.requires("cancel_safe_receive")
        returned = helpers.cancel_after_send(self.channel_layer, "conformance.cancelled", {"n": 1})
        self.assertReceivedOnce(returned, "conformance.cancelled", {"n": 1})
