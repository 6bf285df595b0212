# -*- coding: utf-8 -*-
"""
The flat fast path of the message check against the general walk, on many
random messages, valid and not: the same copy (types included), the same
size, the same refusal word for word, and no container shared.
"""
from __future__ import absolute_import, unicode_literals

import collections
import random

import pytest
import six

from asgiref.base_layer import BaseChannelLayer, InvalidArgument
from asgiref.messages import checked_copy, flat_copy, walked_copy


class Text(six.text_type):
    pass


class Bytes(six.binary_type):
    pass


class Number(int):
    pass


def scalar(chooser):
    """A value the spec allows, now and then a refused one or a subclass."""
    return chooser.choice([
        lambda: chooser.choice([b"", b"x", b"\xff\x00" * chooser.randrange(4)]),
        lambda: chooser.choice(["", "text", "\u00e9\U0001F612"]),
        lambda: chooser.choice([0, -1, 200, 2 ** 63 - 1, -2 ** 63]),
        lambda: chooser.choice([1.5, True, False, None]),
        lambda: chooser.choice([2 ** 63, -2 ** 63 - 1, bytearray(b"x"), 1j, set(), object()]),
        lambda: chooser.choice([Text("sub"), Bytes(b"sub"), Number(7)]),
    ])()


def pair(chooser):
    first, second = scalar(chooser), scalar(chooser)
    if chooser.random() < 0.7:
        first, second = b"name", b"value"
    kind = chooser.choice([list, list, list, tuple])
    return kind([first, second] + [b"third"] * (chooser.random() < 0.05))


def sequence(chooser):
    """A list or tuple: headers, a client address, or anything at all."""
    kind = chooser.choice([list, list, tuple])
    count = chooser.randrange(6)
    shape = chooser.random()
    if shape < 0.4:
        return kind(pair(chooser) for _ in range(count))
    if shape < 0.8:
        return kind(scalar(chooser) for _ in range(count))
    return kind(value(chooser, 1) for _ in range(count))


def value(chooser, depth=0):
    shape = chooser.random()
    if depth < 3 and shape < 0.08:
        return message(chooser, depth + 1)
    if depth < 3 and shape < 0.4:
        return sequence(chooser)
    return scalar(chooser)


def key(chooser):
    if chooser.random() < 0.95:
        return chooser.choice(["type", "path", "headers", "body", "client", "", "\u00e9"]) + str(chooser.randrange(3))
    return chooser.choice([1, None, b"bytes", Text("subclass")])


def message(chooser, depth=0):
    kind = dict if chooser.random() < 0.95 else collections.OrderedDict
    return kind((key(chooser), value(chooser, depth)) for _ in range(chooser.randrange(8)))


def outcome(check, message, keep_tuples):
    try:
        copy, size = check(message, keep_tuples)
    except TypeError as error:
        return type(error), str(error)
    return typed(copy), size


def typed(value):
    """``value`` with the exact type of everything in it spelled out."""
    if isinstance(value, dict):
        return type(value), sorted((typed(key), typed(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value), [typed(item) for item in value]
    return type(value), repr(value)


def containers(value):
    """The ids of the mutable containers in ``value``."""
    if isinstance(value, dict):
        return set([id(value)]).union(*[containers(item) for item in value.values()])
    if isinstance(value, (list, tuple)):
        own = set([id(value)]) if isinstance(value, list) else set()
        return own.union(*[containers(item) for item in value])
    return set()


def random_messages(seed, count):
    chooser = random.Random(seed)
    return [message(chooser) for _ in range(count)]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("keep_tuples", [False, True])
def test_the_fast_path_agrees_with_the_walk(seed, keep_tuples):
    flat = 0
    for message in random_messages(seed, 250):
        expected = outcome(walked_copy, message, keep_tuples)
        assert outcome(checked_copy, message, keep_tuples) == expected
        if type(message) is dict and flat_copy(message, keep_tuples) is not None:
            flat += 1
            copy, _ = flat_copy(message, keep_tuples)
            assert not containers(copy) & containers(message)
    # The generator reaches the fast path, and past it, often.
    assert 10 < flat < 240


@pytest.mark.parametrize("seed", range(5))
def test_the_layer_check_agrees_with_the_walk_and_its_size_limit(seed):
    layer = BaseChannelLayer()
    for message in random_messages(100 + seed, 250):
        try:
            expected = walked_copy(message, True)
        except TypeError as error:
            with pytest.raises(TypeError) as raised:
                layer.checked_message(message, 40, keep_tuples=True)
            assert str(raised.value) == str(error)
            continue
        if expected[1] > 40:
            with pytest.raises(BaseChannelLayer.MessageTooLarge) as raised:
                layer.checked_message(message, 40, keep_tuples=True)
            assert "message size is %d bytes" % expected[1] in str(raised.value)
        else:
            assert typed(layer.checked_message(message, 40, keep_tuples=True)) == typed(expected[0])


def test_the_common_messages_take_the_fast_path():
    request = {
        "reply_channel": "daphne.response.a!b", "method": "GET", "path": "/", "query_string": b"",
        "headers": [[b"host", b"example.com"], (b"accept", b"*/*")], "body": b"", "client": ["::1", 80],
        "server": ("::1", 8000), "more_content": False, "order": 0,
    }
    assert flat_copy(request) is not None
    assert flat_copy({"status": 200, "headers": [("content-type", "text/html")], "content": b"x"}) is not None
    # One nested dict and the walk takes it.
    assert flat_copy({"content": {"nested": 1}}) is None


def test_a_message_that_is_not_a_dict_is_refused_before_either_path():
    with pytest.raises(InvalidArgument):
        BaseChannelLayer().checked_message([("type", "http.request")])
