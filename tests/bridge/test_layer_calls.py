"""
The layer calls both halves of the bridge share: patient retries, draining
what nobody will read, and what a loop does when the layer fails.
"""
from __future__ import absolute_import, unicode_literals

import logging
import time

import pytest

from asgiref.inmemory import ChannelLayer
from asgiref.bridge.layer_calls import LayerFailed, Outage, Patience, drain, layer_call, one_line, send_patiently


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


# A layer that fails: backoff, and the outage logged once.

def fail(loop):
    """A layer call that raises, and ``loop`` (a Backoff or an Outage) told so as a loop tells it; its answer."""
    try:
        raise RuntimeError("Redis at redis://127.0.0.1:1/0 is unavailable:\nConnection refused.")
    except RuntimeError as error:
        return loop.failed(error)


def outage_records(caplog, level=logging.INFO, settle=0):
    caplog.set_level(level, logger="asgiref.test")
    return Outage(logging.getLogger("asgiref.test"), "test loop", settle=settle)


def test_backoff_starts_at_50_ms_doubles_to_1_6_s_and_a_success_starts_it_over(caplog):
    backoff = outage_records(caplog).backoff()
    delays = [fail(backoff) for _ in range(8)]
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 1.6, 1.6]
    backoff.succeeded()
    assert fail(backoff) == 0.05


def test_an_outage_is_one_line_with_the_error_and_one_line_when_it_is_over(caplog):
    outage = outage_records(caplog)
    loops = [outage.backoff() for _ in range(4)]
    for _ in range(10):
        for backoff in loops:
            fail(backoff)
    loops[0].succeeded()
    loops[1].succeeded()
    failing, recovered = caplog.records
    assert failing.levelname == "ERROR" and recovered.levelname == "WARNING"
    assert failing.getMessage() == ("test loop: the channel layer fails: RuntimeError: Redis at "
                                    "redis://127.0.0.1:1/0 is unavailable: Connection refused.")
    assert recovered.getMessage().startswith("test loop: the channel layer works again, after 40 failed calls over ")
    assert not any("\n" in record.getMessage() or record.exc_info for record in caplog.records)


def test_the_traceback_is_logged_at_debug_only(caplog):
    fail(outage_records(caplog))
    assert caplog.records[0].exc_info is None
    caplog.clear()
    fail(outage_records(caplog, logging.DEBUG))
    assert caplog.records[0].exc_info[1] is not None
    assert "Traceback" in caplog.text and "in fail" in caplog.text


def test_a_layer_that_fails_now_and_then_is_not_said_to_work_until_it_has_worked_for_a_while(caplog):
    outage = outage_records(caplog, settle=0.2)
    for _ in range(5):
        fail(outage)
        outage.succeeded()
    assert outage.failing and len(caplog.records) == 1
    time.sleep(0.25)
    outage.succeeded()
    assert not outage.failing and len(caplog.records) == 2
    fail(outage)
    assert len(caplog.records) == 3


def test_layer_call_makes_layer_errors_layer_failed_and_lets_asgi_errors_through():
    layer = ChannelLayer(capacity=1)
    layer.send("full", {})
    with pytest.raises(layer.ChannelFull):
        with layer_call(layer):
            layer.send("full", {})
    with pytest.raises(LayerFailed) as failed:
        with layer_call(layer):
            raise IOError("Connection\r\nreset")
    assert isinstance(failed.value.error, IOError)
    assert str(failed.value) == one_line(failed.value.error) == "{}: Connection reset".format(
        type(failed.value.error).__name__)
