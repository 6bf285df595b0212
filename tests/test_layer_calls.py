"""The layer calls both halves of the bridge share: patient retries, and draining what nobody will read."""
from __future__ import unicode_literals

import pytest

from asgiref.inmemory import ChannelLayer
from asgiref.layer_calls import Patience, drain, send_patiently


def test_patience_waits_until_its_timeout_then_gives_up():
    patience = Patience(0.05, longest=0.005)
    waits = 0
    while patience.wait():
        waits += 1
    assert waits >= 3
    assert patience.wait() is False


def test_send_patiently_raises_channel_full_once_its_timeout_has_passed():
    layer = ChannelLayer(capacity=1)
    send_patiently(layer, "full", {"n": 1}, 0.05)
    with pytest.raises(layer.ChannelFull):
        send_patiently(layer, "full", {"n": 2}, 0.05)


def test_drain_drops_every_waiting_message_of_one_channel_only():
    layer = ChannelLayer()
    for n in range(3):
        layer.send("drained", {"n": n})
    layer.send("kept", {"n": 0})
    assert drain(layer, "drained") == 3
    assert layer.receive(["drained"]) == (None, None)
    assert layer.receive(["kept"])[1] == {"n": 0}


def test_drain_takes_every_channel_behind_a_process_specific_prefix():
    layer = ChannelLayer()
    layer.send("reply.abc!1", {"n": 1})
    layer.send("reply.abc!2", {"n": 2})
    assert drain(layer, "reply.abc!") == 2


def test_next_delay_doubles_up_to_the_longest_and_is_none_past_the_timeout():
    # An asyncio caller sleeps each delay itself; none is slept here.
    patience = Patience(3600, longest=0.004)
    delays = [patience.next_delay() for _ in range(10)]
    assert delays[:3] == [delays[0], delays[0] * 2, delays[0] * 4]
    assert max(delays) == delays[-1] == 0.004
    assert Patience(0).next_delay() is None
