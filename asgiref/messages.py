"""
The ASGI message rules (spec section 1): one pass that checks a message,
makes an independent copy of it and measures its size. Flat messages, the
shape of nearly every message a server or worker sends, take a pass with
no call per value; anything else is walked.
"""
from __future__ import unicode_literals

import six

#: Deeper nesting is refused; this also catches a message that contains itself.
MAX_DEPTH = 100

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_BYTES = six.binary_type
_TEXT = six.text_type
_PLAIN = frozenset([float, bool, type(None)])
_TEXT_ONLY = frozenset([_TEXT])
# The walk's state: a list cell [size so far, keep tuples].
_SIZE, _KEEP_TUPLES = 0, 1
_ALLOWED = "bytes, text, int, float, bool, None, list, tuple or dict"


def checked_copy(message, keep_tuples=False):
    """
    Return ``(copy, size)`` for a message that follows the ASGI type rules.

    The copy shares nothing mutable with ``message``: later changes to either
    are never seen by the other. Subclasses of the allowed types come back as
    the plain types, and tuples as lists, as any serialising layer delivers
    them; with ``keep_tuples``, tuples stay tuples, as asgiref 1.1's
    in-memory layer kept them. ``size`` counts the whole message: a byte for
    every value, key and container, plus the length of every string (keys
    too), text in characters. That is no more than its JSON encoding (bytes
    as if text) or its msgpack encoding takes, so a message that encodes to
    1 MB counts at most 1 MB, and a message of many tiny values counts each.

    Raises ``TypeError`` naming the offending value's path, for example
    ``message['headers'][2][0]: bytearray is not allowed``.
    """
    if type(message) is dict:
        copied = flat_copy(message, keep_tuples)
        if copied is not None:
            return copied
    return walked_copy(message, keep_tuples)


def walked_copy(message, keep_tuples=False):
    """
    :func:`checked_copy` for any message, walking it value by value: the
    general path, which every message outside the flat shapes takes and
    which words every refusal.
    """
    if not isinstance(message, dict):
        raise TypeError("message must be a dict, not %s" % _type_name(message))
    state = [0, keep_tuples]
    try:
        copy = _copy_dict(message, state, 1)
    except _Refused as refusal:
        raise TypeError("message%s: %s" % ("".join(reversed(refusal.path)), refusal.reason))
    # The message itself is one container more.
    return copy, state[_SIZE] + 1


def flat_copy(message, keep_tuples=False):
    """
    :func:`checked_copy` of a flat message (a plain dict), in one pass and
    no call: text keys whose values are strings, ints, floats, bools, None,
    or lists and tuples of strings, ints and pairs of strings (headers).
    None for anything else, which :func:`walked_copy` then copies or
    refuses, so every refusal is worded in one place.
    """
    copy = message.copy()
    # The message, and a byte for each key and each value.
    size = 1 + 2 * len(copy)
    for key, value in copy.items():
        if type(key) is not _TEXT:
            return None
        size += len(key)
        kind = type(value)
        if kind is _BYTES or kind is _TEXT:
            size += len(value)
        elif kind is list or kind is tuple:
            # A byte for each item.
            size += len(value)
            items = list(value)
            index = 0
            # The snapshot is walked: a list another thread changes meanwhile cannot trip it.
            for item in items:
                item_kind = type(item)
                if item_kind is list or item_kind is tuple:
                    if len(item) != 2:
                        return None
                    first, second = item
                    # Pairs of bytes (headers) are the commonest: one test each.
                    if type(first) is not _BYTES or type(second) is not _BYTES:
                        first_kind, second_kind = type(first), type(second)
                        if ((first_kind is not _BYTES and first_kind is not _TEXT)
                                or (second_kind is not _BYTES and second_kind is not _TEXT)):
                            return None
                    size += 2 + len(first) + len(second)
                    # A kept tuple of strings is immutable through and through: shared.
                    if item_kind is list or not keep_tuples:
                        items[index] = [first, second]
                elif item_kind is _BYTES or item_kind is _TEXT:
                    size += len(item)
                elif item_kind is not int or not _INT64_MIN <= item <= _INT64_MAX:
                    return None
                index += 1
            copy[key] = tuple(items) if kind is tuple and keep_tuples else items
        elif kind is int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                return None
        elif kind not in _PLAIN:
            return None
    return copy, size


class _Refused(Exception):
    """A value broke the rules; the path is collected on the way out."""

    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason
        self.path = []


def _copy_dict(mapping, state, depth):
    if depth > MAX_DEPTH:
        raise _Refused("nested deeper than %d levels" % MAX_DEPTH)
    if not _TEXT_ONLY.issuperset(map(type, mapping)):
        mapping = _with_text_keys(mapping)
    copy = {}
    # Each key and each value takes a byte, each key its length.
    total = 2 * len(mapping) + sum(map(len, mapping))
    key = None
    try:
        for key, value in mapping.items():
            kind = type(value)
            # Strings are most of any message: handled here, not in a call.
            if kind is _BYTES or kind is _TEXT:
                total += len(value)
                copy[key] = value
            elif kind is list:
                copy[key] = _copy_list(value, state, depth + 1)
            elif kind is int and _INT64_MIN <= value <= _INT64_MAX:
                copy[key] = value
            else:
                copy[key] = _copy_value(value, kind, state, depth)
    except _Refused as refusal:
        refusal.path.append("[%s]" % _show(key))
        raise
    state[_SIZE] += total
    return copy


def _copy_list(items, state, depth):
    if depth > MAX_DEPTH:
        raise _Refused("nested deeper than %d levels" % MAX_DEPTH)
    copy = []
    append = copy.append
    # Each item takes a byte.
    total = len(items)
    try:
        for value in items:
            kind = type(value)
            if kind is _BYTES or kind is _TEXT:
                total += len(value)
                append(value)
            elif kind is list and len(value) == 2 and type(value[0]) is _BYTES and type(value[1]) is _BYTES:
                # Header pairs, the commonest nesting of all, take no call.
                total += 2 + len(value[0]) + len(value[1])
                append([value[0], value[1]])
            elif kind is int and _INT64_MIN <= value <= _INT64_MAX:
                append(value)
            elif kind is list or kind is tuple:
                # Other lists of strings are checked here too.
                strings = len(value)
                for item in value:
                    item_kind = type(item)
                    if item_kind is not _BYTES and item_kind is not _TEXT:
                        append(_copy_value(value, kind, state, depth))
                        break
                    strings += len(item)
                else:
                    total += strings
                    # A kept tuple of strings is immutable through and through: shared.
                    append(value if kind is tuple and state[_KEEP_TUPLES] else list(value))
            else:
                append(_copy_value(value, kind, state, depth))
    except _Refused as refusal:
        # Every item before the refused one is in the copy already.
        refusal.path.append("[%d]" % len(copy))
        raise
    state[_SIZE] += total
    return copy


def _copy_value(value, kind, state, depth):
    if kind is _BYTES or kind is _TEXT:
        state[_SIZE] += len(value)
        return value
    if kind is dict:
        return _copy_dict(value, state, depth + 1)
    if kind is list:
        return _copy_list(value, state, depth + 1)
    if kind is tuple:
        return _copy_tuple(value, state, depth)
    if kind in six.integer_types:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        raise _Refused("int %d is outside the signed 64-bit range" % value)
    if kind in _PLAIN:
        return value
    return _copy_subclass(value, state, depth)


def _copy_tuple(items, state, depth):
    copy = _copy_list(items, state, depth + 1)
    return tuple(copy) if state[_KEEP_TUPLES] else copy


def _copy_subclass(value, state, depth):
    """
    Plain copies of subclasses of the allowed types (Django's SafeText, an
    IntEnum, an OrderedDict, a namedtuple), so overrides never travel.
    """
    if isinstance(value, (_BYTES, _TEXT)):
        plain = _plain_string(value)
        state[_SIZE] += len(plain)
        return plain
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, six.integer_types):
        return _copy_value(int(value), int, state, depth)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return _copy_dict(value, state, depth + 1)
    if isinstance(value, tuple):
        return _copy_tuple(value, state, depth)
    if isinstance(value, list):
        return _copy_list(value, state, depth + 1)
    raise _Refused("%s is not allowed (values must be %s)" % (_type_name(value), _ALLOWED))


def _plain_string(value):
    base = _BYTES if isinstance(value, _BYTES) else _TEXT
    # join() with a single item that is not of the exact type builds a new
    # object of the exact type, whatever the subclass overrides.
    return base().join([value])


def _with_text_keys(mapping):
    """The mapping's items with every key as plain text, or _Refused naming the bad key."""
    converted = {}
    for key, value in mapping.items():
        try:
            converted[_text_key(key)] = value
        except _Refused as refusal:
            refusal.path.append("[%s]" % _show(key))
            raise
    return converted


def _text_key(key):
    # On Python 2 a plain "status" literal is a byte string; accept ASCII ones
    # there, as meaning the text they spell.
    if type(key) is _TEXT:
        return key
    if six.PY2 and isinstance(key, _BYTES):
        try:
            return key.decode("ascii")
        except UnicodeDecodeError:
            pass
    elif isinstance(key, _TEXT):
        return _plain_string(key)
    raise _Refused("keys must be text, not %s %s" % (_type_name(key), _show(key)))


def _show(value):
    shown = repr(value)
    # Python 2 prefixes text with u; the path reads the same on both versions.
    if six.PY2 and isinstance(value, _TEXT):
        shown = shown[1:]
    return shown


def _type_name(value):
    return type(value).__name__
