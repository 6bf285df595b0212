"""BaseChannelLayer: what a third-party layer inherits."""
from __future__ import absolute_import, unicode_literals

import collections
import re
import warnings

import pytest
import six

from asgiref.base_layer import BaseChannelLayer, InvalidArgument, random_name_part


BYTES = type(b"").__name__


class LayerA(BaseChannelLayer):
    pass


class LayerB(BaseChannelLayer):
    pass


@pytest.fixture
def layer():
    return BaseChannelLayer()


def test_constructor_keywords_are_kept_as_attributes():
    layer = BaseChannelLayer(expiry=5, group_expiry=10, capacity=7, channel_capacity={"a": 3})
    assert (layer.expiry, layer.group_expiry, layer.capacity) == (5, 10, 7)
    assert [capacity for _, capacity in layer.channel_capacity] == [3]


def test_constructor_defaults(layer):
    assert (layer.expiry, layer.group_expiry, layer.capacity, layer.channel_capacity) == (60, 86400, 100, [])
    assert layer.extensions == []


@pytest.mark.parametrize("keywords, error, text", [
    ({"expiry": 0}, ValueError, "expiry must be above 0, not 0"),
    ({"expiry": "60"}, TypeError, "expiry must be a number"),
    ({"group_expiry": -1}, ValueError, "group_expiry must be above 0"),
    ({"expiry": float("inf")}, ValueError, "expiry must be a finite number above 0, not inf"),
    ({"group_expiry": float("nan")}, ValueError, "group_expiry must be a finite number above 0, not nan"),
    ({"expiry": 10 ** 400}, ValueError, "expiry must be a finite number above 0"),
    ({"capacity": 0}, ValueError, "capacity must be at least 1, not 0"),
    ({"capacity": 1.5}, TypeError, "capacity must be an integer"),
    ({"capacity": True}, TypeError, "capacity must be an integer"),
    ({"channel_capacity": ["http.request"]}, TypeError, "channel_capacity must be a mapping"),
    ({"channel_capacity": {"http.request": 0}}, ValueError, "channel_capacity['http.request'] must be at least 1"),
    ({"channel_capacity": {5: 10}}, TypeError, "channel_capacity keys must be glob strings or compiled regexes"),
])
def test_bad_constructor_arguments_are_refused(keywords, error, text):
    with pytest.raises(error) as raised:
        BaseChannelLayer(**keywords)
    assert text in str(raised.value).replace("u'", "'")


def test_exceptions_are_one_class_each_for_every_layer():
    assert LayerA.ChannelFull is LayerB.ChannelFull is BaseChannelLayer.ChannelFull
    assert LayerA().MessageTooLarge is LayerB().MessageTooLarge is BaseChannelLayer.MessageTooLarge
    with pytest.raises(BaseChannelLayer.ChannelFull):
        raise LayerA.ChannelFull("x")
    assert issubclass(BaseChannelLayer.ChannelFull, Exception)
    assert issubclass(BaseChannelLayer.MessageTooLarge, Exception)


@pytest.mark.parametrize("call", [
    lambda layer: layer.send("a", {}),
    lambda layer: layer.receive(["a"]),
    lambda layer: layer.receive(["a"], block=True),
    lambda layer: layer.new_channel("a?"),
    lambda layer: layer.group_add("g", "a"),
    lambda layer: layer.group_discard("g", "a"),
    lambda layer: layer.group_channels("g"),
    lambda layer: layer.send_group("g", {}),
    lambda layer: layer.flush(),
])
def test_the_api_is_stubbed(layer, call):
    with pytest.raises(NotImplementedError):
        call(layer)


def test_receive_many_is_a_deprecated_alias_of_receive():
    class Layer(BaseChannelLayer):
        def receive(self, channels, block=False):
            return channels[0], {"block": block}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Layer().receive_many(["a"], True) == ("a", {"block": True})
    assert [warning.category for warning in caught] == [DeprecationWarning]
    assert caught[0].filename == __file__


# Capacity.

def test_globs_are_compiled_and_regexes_kept(layer):
    regex = re.compile(r"^big\.")
    compiled = layer.compile_capacities(collections.OrderedDict([("http.*", 5), (regex, 50)]))
    assert [capacity for _, capacity in compiled] == [5, 50]
    assert compiled[1][0] is regex
    assert compiled[0][0].match("http.request")
    assert not compiled[0][0].match("websocket.http.request")


def test_first_matching_pattern_wins_in_the_mappings_order():
    layer = BaseChannelLayer(capacity=10, channel_capacity=collections.OrderedDict([
        ("http.request", 1),
        ("http.*", 2),
        (re.compile(r"^websocket\."), 3),
        ("*", 4),
    ]))
    assert layer.get_capacity("http.request") == 1
    assert layer.get_capacity("http.disconnect") == 2
    assert layer.get_capacity("websocket.send!x") == 3
    assert layer.get_capacity("anything") == 4


@pytest.mark.skipif(six.PY3, reason="Python 2 only: plain literals are byte strings there")
def test_native_string_globs_work_on_python_2():
    layer = BaseChannelLayer(capacity=10, channel_capacity={str("http.request"): 200})
    assert layer.get_capacity("http.request") == 200


def test_unmatched_channels_get_the_default_capacity():
    layer = BaseChannelLayer(capacity=10, channel_capacity={"http.*": 2})
    assert layer.get_capacity("websocket.connect") == 10


def test_glob_question_mark_and_brackets_are_glob_syntax():
    layer = BaseChannelLayer(capacity=10, channel_capacity={"chat.[ab]?": 2})
    assert layer.get_capacity("chat.a1") == 2
    assert layer.get_capacity("chat.c1") == 10


def test_a_process_specific_channel_is_matched_by_its_non_local_name():
    layer = BaseChannelLayer(capacity=10, channel_capacity={"daphne.response.*!": 3, "*!abc": 4})
    assert layer.get_capacity("daphne.response.x1!abc") == 3
    assert layer.get_capacity("daphne.response.x1!") == 3
    assert layer.get_capacity("other!abc") == 10


# Names.

@pytest.mark.parametrize("name", [
    "http.request", "a", "A-b_c.9", "http.request.body?Xy12_-.", "daphne.response.Ab!c7", "daphne.response.Ab!",
    "x" * 99,
])
def test_valid_channel_names(layer, name):
    assert layer.valid_channel_name(name) is True


@pytest.mark.parametrize("name", ["http.request", "reply?abc", "daphne.response.Ab!"])
def test_valid_receive_names(layer, name):
    assert layer.valid_channel_name(name, receive=True) is True


@pytest.mark.parametrize("name, text", [
    (b"http.request", "channel name must be text, not %s" % BYTES),
    (None, "channel name must be text, not NoneType"),
    ("x" * 100, "is 100 characters long; names must be under 100"),
    ("", "with at most one '?' or '!' type character; "),
    ("http request", "Channel name must be text of ASCII letters, digits, hyphens, underscores or periods, "
                     "with at most one '?' or '!' type character; %r is not" % "http request"),
    ("caf\u00e9", "with at most one '?' or '!' type character; "),
    ("a?b?c", "with at most one '?' or '!' type character; "),
    ("a!b!c", "with at most one '?' or '!' type character; "),
    ("a?b!c", "with at most one '?' or '!' type character; "),
    ("?abc", "with at most one '?' or '!' type character; "),
    ("reply?", "ends with '?': a single-reader name needs the random part that new_channel() adds"),
    ("line\n", "with at most one '?' or '!' type character; "),
    ("r?\u00e9t\u00e9", "with at most one '?' or '!' type character; "),
])
def test_invalid_channel_names_say_which_rule_they_broke(layer, name, text):
    with pytest.raises(TypeError) as error:
        layer.valid_channel_name(name)
    assert text in str(error.value)
    if isinstance(name, type("")) and len(name) < 50:
        assert repr(name) in str(error.value)


def test_a_subclass_of_text_is_a_name_like_any_other(layer):
    class SafeText(type("")):
        pass

    for receive in (False, True):
        assert layer.valid_channel_name(SafeText("http.request"), receive=receive) is True
        assert layer.valid_channel_names([SafeText("reply!")], receive=receive) is True
    assert layer.valid_group_name(SafeText("chat")) is True
    with pytest.raises(TypeError):
        layer.valid_channel_name(SafeText("reply!local"), receive=True)


def test_receive_on_a_local_part_is_refused_naming_the_prefix(layer):
    assert layer.valid_channel_name("daphne.response.Ab!c7") is True
    with pytest.raises(TypeError) as error:
        layer.valid_channel_name("daphne.response.Ab!c7", receive=True)
    assert "receive on its process-specific prefix %r" % "daphne.response.Ab!" in str(error.value)


@pytest.mark.parametrize("names", [
    ["a", "b!"], ("a", "b!"), set(["a", "b!"]), frozenset(["a"]), collections.deque(["a"]),
    collections.OrderedDict([("a", 1), ("b!", 2)]).keys(), (name for name in ["a", "b!"]),
])
def test_valid_channel_names_takes_any_iterable_of_names_as_asgiref_1_1_did(layer, names):
    assert layer.valid_channel_names(names, receive=True) is True


def test_checked_channel_names_reads_an_iterable_once_and_returns_the_names(layer):
    assert layer.checked_channel_names(name for name in ["a", "b!"]) == ["a", "b!"]
    assert sorted(layer.checked_channel_names(set(["a", "b"]))) == ["a", "b"]
    names = ["a"]
    assert layer.checked_channel_names(names) is names


@pytest.mark.parametrize("names, text", [
    ("http.request", "not a single string %r: write [%r]" % ("http.request", "http.request")),
    (b"http.request", "not a single string %r" % b"http.request"),
    ([], "not an empty list"),
    (set(), "not an empty set"),
    (iter([]), "not an empty"),
    (None, "not NoneType None"),
    (5, "not int 5"),
])
def test_valid_channel_names_refuses_a_string_or_an_empty_collection(layer, names, text):
    with pytest.raises(InvalidArgument) as error:
        layer.valid_channel_names(names)
    assert "channel names must be a" in str(error.value)
    assert text in str(error.value)


@pytest.mark.parametrize("names", ["http.request", [], None])
def test_bad_channel_names_are_caught_as_asgiref_1_1s_assertion_error(layer, names):
    # asgiref 1.1 asserted here; code written for it catches AssertionError.
    with pytest.raises(AssertionError):
        layer.valid_channel_names(names)


def test_invalid_argument_is_a_type_error_and_an_assertion_error():
    assert issubclass(InvalidArgument, TypeError)
    assert issubclass(InvalidArgument, AssertionError)
    assert InvalidArgument.__doc__


def test_valid_channel_names_checks_every_name(layer):
    with pytest.raises(TypeError) as error:
        layer.valid_channel_names(["a", "b!c"], receive=True)
    assert "cannot receive on" in str(error.value)


@pytest.mark.parametrize("name", ["group", "chat.room-1_a"])
def test_valid_group_names(layer, name):
    assert layer.valid_group_name(name) is True


@pytest.mark.parametrize("name, text", [
    (b"group", "group name must be text, not %s" % BYTES),
    ("g" * 100, "names must be under 100"),
    ("room?1", "Group name must be text of ASCII letters, digits, hyphens, underscores or periods; "),
    ("room!1", "Group name must be text of ASCII letters, digits, hyphens, underscores or periods; "),
    ("", "Group name must be text of ASCII letters, digits, hyphens, underscores or periods; "),
])
def test_invalid_group_names(layer, name, text):
    with pytest.raises(TypeError) as error:
        layer.valid_group_name(name)
    assert text in str(error.value)


@pytest.mark.parametrize("name, non_local", [
    ("daphne.response.Ab!c7", "daphne.response.Ab!"),
    ("daphne.response.Ab!", "daphne.response.Ab!"),
    ("http.request", "http.request"),
    ("reply?abc", "reply?abc"),
])
def test_non_local_name(layer, name, non_local):
    assert layer.non_local_name(name) == non_local


def test_the_asgiref_1_1_name_helpers_are_there(layer):
    assert layer.match_type_and_length("http.request") is True
    assert layer.match_type_and_length("x" * 100) is False
    assert layer.match_type_and_length(b"http.request") is False
    assert layer.invalid_name_error.format("Group").startswith("Group name must be text")


# The message check.

def test_checked_message_is_an_independent_copy(layer):
    message = {"list": [1]}
    copy = layer.checked_message(message)
    message["list"].append(2)
    assert copy == {"list": [1]}


def test_checked_message_delivers_tuples_as_lists_unless_asked_to_keep_them(layer):
    assert layer.checked_message({"t": (1, 2)}) == {"t": [1, 2]}
    assert layer.checked_message({"t": (1, 2)}, keep_tuples=True) == {"t": (1, 2)}


@pytest.mark.parametrize("message", [None, "text", [("key", "value")]])
def test_checked_message_refuses_a_message_that_is_not_a_dict_as_1_1_asserted(layer, message):
    with pytest.raises(InvalidArgument) as error:
        layer.checked_message(message)
    assert "message must be a dict, not %s" % type(message).__name__ in str(error.value)


def test_checked_message_raises_type_error_and_message_too_large(layer):
    with pytest.raises(TypeError):
        layer.checked_message({"x": set()})
    # 10 bytes: the message, the key "body" (a byte and 4), its value (a byte and 3).
    assert layer.checked_message({"body": b"x" * 3}, max_size=10) == {"body": b"x" * 3}
    with pytest.raises(layer.MessageTooLarge) as error:
        layer.checked_message({"body": b"x" * 4}, max_size=10)
    assert "message size is 11 bytes; this layer carries at most 10" in str(error.value)


def test_random_name_part_is_twelve_url_safe_characters():
    parts = set(random_name_part() for _ in range(1000))
    assert len(parts) == 1000
    for part in parts:
        assert re.match(r"[A-Za-z0-9_-]{12}\Z", part)
