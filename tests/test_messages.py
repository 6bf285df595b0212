# -*- coding: utf-8 -*-
"""The ASGI message rules: what passes, what is refused and how, what the copy is."""
from __future__ import absolute_import, unicode_literals

import collections

import pytest
import six

from asgiref.messages import MAX_DEPTH, checked_copy


def test_every_allowed_type_passes_unchanged():
    message = {
        "bytes": b"\x00\xff\xc2\xa3",
        "text": "\u00a3 \U0001F612 \x00",
        "int": 42,
        "biggest": 2 ** 63 - 1,
        "smallest": -2 ** 63,
        "float": 1.5,
        "true": True,
        "none": None,
        "list": [b"a", "b", [1, [2.0]]],
        "dict": {"nested": {"deeper": [False]}},
        "empty": {"list": [], "dict": {}, "bytes": b"", "text": ""},
    }
    copy, _ = checked_copy(message)
    assert copy == message
    assert type(copy["bytes"]) is six.binary_type
    assert type(copy["text"]) is six.text_type
    assert type(copy["true"]) is bool


def test_copy_shares_no_container_with_the_original():
    message = {"headers": [[b"a", b"b"]], "client": ["1.2.3.4", 5], "deep": {"list": [{"x": 1}]}}
    copy, _ = checked_copy(message)
    message["headers"][0][1] = b"changed"
    message["headers"].append([b"c", b"d"])
    message["client"][1] = 6
    message["deep"]["list"][0]["x"] = 2
    message["new"] = 1
    assert copy == {"headers": [[b"a", b"b"]], "client": ["1.2.3.4", 5], "deep": {"list": [{"x": 1}]}}


def test_tuples_arrive_as_lists():
    copy, _ = checked_copy({"pair": (b"a", b"b"), "nested": [(1, (2, 3))]})
    assert copy == {"pair": [b"a", b"b"], "nested": [[1, [2, 3]]]}
    assert type(copy["pair"]) is list
    assert type(copy["nested"][0][1]) is list


def test_keep_tuples_keeps_them_as_independent_tuples():
    inner = [1]
    message = {"pair": (b"a", b"b"), "nested": [(1, (2, inner))], "named": collections.namedtuple("P", "a b")(1, 2)}
    copy, _ = checked_copy(message, keep_tuples=True)
    assert copy == {"pair": (b"a", b"b"), "nested": [(1, (2, [1]))], "named": (1, 2)}
    assert type(copy["pair"]) is tuple and type(copy["named"]) is tuple
    inner.append(2)
    assert copy["nested"][0][1][1] == [1]


def test_subclasses_of_allowed_types_arrive_as_the_plain_types():
    class SafeText(six.text_type):
        def __str__(self):
            return self

    class Bytes(six.binary_type):
        pass

    class Status(int):
        pass

    Pair = collections.namedtuple("Pair", "name value")
    message = collections.OrderedDict([
        ("text", SafeText("<b>hi</b>")),
        ("bytes", Bytes(b"raw")),
        ("status", Status(200)),
        ("header", Pair(b"a", b"b")),
        ("mapping", collections.OrderedDict([("k", 1)])),
    ])
    copy, size = checked_copy(message)
    assert type(copy) is dict
    assert type(copy["text"]) is six.text_type and copy["text"] == "<b>hi</b>"
    assert type(copy["bytes"]) is six.binary_type and copy["bytes"] == b"raw"
    assert type(copy["status"]) is int and copy["status"] == 200
    assert type(copy["header"]) is list and copy["header"] == [b"a", b"b"]
    assert type(copy["mapping"]) is dict and copy["mapping"] == {"k": 1}
    # The message, then each key (a byte and its length) with its value.
    assert size == 1 + (1 + 4 + 1 + 9) + (1 + 5 + 1 + 3) + (1 + 6 + 1) + (1 + 6 + 1 + 2 + 2) + (1 + 7 + 1 + 1 + 1 + 1)


def test_size_counts_strings_and_a_byte_for_each_value_key_and_container():
    copy, size = checked_copy({
        "body": b"12345",
        "path": "/\u00e9",
        "headers": [[b"ab", b"cde"], ("f", "gh")],
        "status": 200,
        "more": True,
        "none": None,
    })
    assert size == (1 + (1 + 4 + 1 + 5) + (1 + 4 + 1 + 2) + (1 + 7 + 1 + (1 + 1 + 2 + 1 + 3) + (1 + 1 + 1 + 1 + 2))
                    + (1 + 6 + 1) + (1 + 4 + 1) + (1 + 4 + 1))


def test_keys_count():
    assert checked_copy({"a_rather_long_key_name": b""})[1] == 1 + 1 + 22 + 1


@pytest.mark.parametrize("items", [[0] * 1000, [{}] * 1000, [[]] * 1000, [None] * 1000, [True] * 1000, [""] * 1000])
def test_many_tiny_values_count_one_byte_each(items):
    assert checked_copy({"n": items})[1] == 1 + 1 + 1 + 1 + 1000


def as_json(value):
    """The JSON form of a message, its byte strings as if text of the same length."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return dict((key, as_json(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    return value


@pytest.mark.parametrize("message", [
    {},
    {"": ""},
    {"body": b"x" * 1000, "more_content": False},
    {"n": [0, -1, 2 ** 63 - 1, -2 ** 63, 1.5, True, False, None, [], {}, "", b""]},
    {"headers": [[b"host", b"example.com"], [b"cookie", b"a=b"]], "path": "/\u00e9\U0001F612", "client": ["::1", 0]},
    {"deep": {"deeper": {"deepest": [[[{"k": "v"}]]]}}},
    {"\u00e9": "\u00e9"},
])
def test_size_is_never_more_than_the_compact_json_encoding(message):
    import json
    encoded = json.dumps(as_json(message), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert checked_copy(message)[1] <= len(encoded)


@pytest.mark.parametrize("message", [None, [], "text", b"bytes", 1, collections.namedtuple("T", "a")(1)])
def test_a_message_must_be_a_dict(message):
    with pytest.raises(TypeError) as error:
        checked_copy(message)
    assert "message must be a dict, not %s" % type(message).__name__ in str(error.value)


@pytest.mark.parametrize("message, path, problem", [
    ({"body": bytearray(b"x")}, "message['body']", "bytearray is not allowed"),
    ({"headers": [[b"a", b"b"], [b"c", b"d"], [bytearray(b"x"), b"y"]]},
     "message['headers'][2][0]", "bytearray is not allowed"),
    ({"a": {"b": [1, 2, {"c": set()}]}}, "message['a']['b'][2]['c']", "set is not allowed"),
    ({"n": object()}, "message['n']", "object is not allowed"),
    ({"n": 1j}, "message['n']", "complex is not allowed"),
    ({"n": 2 ** 63}, "message['n']", "outside the signed 64-bit range"),
    ({"n": [-2 ** 63 - 1]}, "message['n'][0]", "outside the signed 64-bit range"),
    ({"view": memoryview(b"x")}, "message['view']", "memoryview is not allowed"),
    ({"k": {1: "one"}}, "message['k'][1]", "keys must be text, not int"),
    ({"k": {None: "none"}}, "message['k'][None]", "keys must be text, not NoneType"),
])
def test_a_bad_value_is_refused_naming_its_path(message, path, problem):
    with pytest.raises(TypeError) as error:
        checked_copy(message)
    assert str(error.value).startswith(path + ": ")
    assert problem in str(error.value)


def test_the_refusal_lists_what_is_allowed():
    with pytest.raises(TypeError) as error:
        checked_copy({"a": frozenset()})
    assert "values must be bytes, text, int, float, bool, None, list, tuple or dict" in str(error.value)


@pytest.mark.skipif(six.PY2, reason="on Python 2 plain str is the byte string type and may be a key")
def test_byte_string_keys_are_refused():
    with pytest.raises(TypeError) as error:
        checked_copy({"ok": 1, "inner": {b"status": 200}})
    assert str(error.value) == "message['inner'][b'status']: keys must be text, not bytes b'status'"


@pytest.mark.skipif(six.PY3, reason="Python 2 only: native str literals are byte strings there")
def test_ascii_native_string_keys_are_text_on_python_2():
    copy, _ = checked_copy({str("status"): 200})
    assert copy == {"status": 200}
    assert type(list(copy)[0]) is six.text_type
    with pytest.raises(TypeError) as error:
        checked_copy({b"\xff": 1})
    assert "keys must be text" in str(error.value)


def test_nesting_deeper_than_the_limit_is_refused():
    deep = inner = {}
    for _ in range(MAX_DEPTH - 1):
        inner["x"] = {}
        inner = inner["x"]
    checked_copy(deep)
    inner["x"] = [1]
    with pytest.raises(TypeError) as error:
        checked_copy(deep)
    assert "nested deeper than %d levels" % MAX_DEPTH in str(error.value)


def test_a_message_that_contains_itself_is_refused():
    message = {"items": []}
    message["items"].append(message)
    with pytest.raises(TypeError) as error:
        checked_copy(message)
    assert "nested deeper than" in str(error.value)
