"""
instrument_layer: a layer's calls counted, and a sample of them timed, on
the instance, the layer still itself (its class, and the tracebacks that
name it).
"""
from __future__ import absolute_import, unicode_literals

import pytest
import six

from asgiref.bridge.layer_calls import failed_under
from asgiref.inmemory import ChannelLayer
from tests.metrics.scraping import value
from tests.redis_servers import free_port, require_redis

pytest.importorskip("prometheus_client")
from asgiref.metrics import Metrics, instrument_layer  # noqa: E402 (only with prometheus_client)
from asgiref.metrics.collectors import LAYER_CALL_SAMPLE  # noqa: E402


def samples(metrics):
    return dict(((sample.name, tuple(sorted(sample.labels.items()))), sample.value)
                for family in metrics.registry.collect() for sample in family.samples)


def test_sends_receives_and_channel_full_are_counted_and_timed():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(capacity=2), metrics)
    assert isinstance(layer, ChannelLayer)
    layer.send("work", {"n": 1})
    layer.send("work", {"n": 2})
    with pytest.raises(layer.ChannelFull):
        layer.send("work", {"n": 3})
    assert layer.receive(["work"])[1] == {"n": 1}
    assert layer.receive(["nothing"]) == (None, None)
    found = samples(metrics)
    assert value(found, "asgiref_layer_messages_sent_total") == 2
    assert value(found, "asgiref_layer_messages_received_total") == 1
    assert value(found, "asgiref_layer_channel_full_total") == 1
    # ChannelFull is the caller's to handle, not a failure of the layer.
    assert value(found, "asgiref_layer_errors_total", call="send") == 0
    # The first call of each method is timed, and stands for a sample's worth of calls.
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="send") == LAYER_CALL_SAMPLE
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="receive") == LAYER_CALL_SAMPLE


def test_one_call_in_a_sample_is_timed_and_counts_as_the_sample_in_the_histogram():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(capacity=100), metrics)
    for number in range(2 * LAYER_CALL_SAMPLE + 1):
        layer.send("work", {"n": number})
    found = samples(metrics)
    assert value(found, "asgiref_layer_messages_sent_total") == 2 * LAYER_CALL_SAMPLE + 1
    # The first, the (sample + 1)th and the (2 * sample + 1)th send were timed.
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="send") == 3 * LAYER_CALL_SAMPLE
    assert value(found, "asgiref_layer_call_duration_seconds_bucket", call="send", le="+Inf") == 3 * LAYER_CALL_SAMPLE
    assert value(found, "asgiref_layer_call_duration_seconds_sum", call="send") > 0
    # Each method has its own count: the first receive is timed too.
    assert layer.receive(["work"])[1] == {"n": 0}
    found = samples(metrics)
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="receive") == LAYER_CALL_SAMPLE


def test_every_call_that_did_not_end_well_is_counted_whether_timed_or_not():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(capacity=1), metrics)
    layer.send("work", {"n": 0})
    for _ in range(LAYER_CALL_SAMPLE + 2):
        with pytest.raises(layer.ChannelFull):
            layer.send("work", {"n": 1})
    found = samples(metrics)
    assert value(found, "asgiref_layer_channel_full_total") == LAYER_CALL_SAMPLE + 2
    assert value(found, "asgiref_layer_messages_sent_total") == 1
    # Timed: the first send (done) and the (sample + 1)th (full).
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="send") == 2 * LAYER_CALL_SAMPLE


def test_a_group_send_counts_the_members_it_reached_and_those_it_dropped():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(capacity=1), metrics)
    layer.send("full", {"n": 0})
    for channel in ("full", "a", "b"):
        layer.group_add("room", channel)
    layer.send_group("room", {"n": 1})
    found = samples(metrics)
    assert value(found, "asgiref_layer_messages_sent_total") == 1 + 2
    assert value(found, "asgiref_layer_channel_full_total") == 1
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="send_group") == LAYER_CALL_SAMPLE


def test_a_failing_layer_is_counted_as_an_error_and_still_named_in_its_traceback():
    require_redis()
    from asgiref.redis import RedisChannelLayer
    metrics = Metrics()
    nobody = "redis://127.0.0.1:%d/0" % free_port()
    layer = instrument_layer(RedisChannelLayer(hosts=[nobody], max_message_size=100), metrics)
    try:
        layer.send("work", {"n": 1})
    except Exception as error:
        # The bridge tells a layer failing under an application by the layer in the traceback.
        assert failed_under(layer, error)
    else:
        raise AssertionError("a send to a Redis nobody listens for worked")
    # A message too large is the caller's error, not the layer's.
    with pytest.raises(layer.MessageTooLarge):
        layer.send("work", {"big": b"x" * 1000})
    found = samples(metrics)
    assert value(found, "asgiref_layer_errors_total", call="send") == 1
    assert value(found, "asgiref_layer_messages_sent_total") == 0


def test_a_send_the_layer_refuses_as_bad_input_is_timed_but_neither_sent_nor_an_error():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(), metrics)
    with pytest.raises(TypeError):
        layer.send("work", {"n": object()})
    found = samples(metrics)
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="send") == LAYER_CALL_SAMPLE
    assert value(found, "asgiref_layer_messages_sent_total") == 0
    assert value(found, "asgiref_layer_errors_total", call="send") == 0


def test_a_waiting_receive_is_timed_apart_from_one_that_looks():
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(), metrics)
    layer.send("work", {"n": 1})
    assert layer.receive(["work"], block=True)[1] == {"n": 1}
    found = samples(metrics)
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="receive_wait") == LAYER_CALL_SAMPLE
    assert ("asgiref_layer_call_duration_seconds_count", (("call", "receive"),)) not in found
    assert value(found, "asgiref_layer_messages_received_total") == 1


@pytest.mark.skipif(six.PY2, reason="receive_async is Python 3's")
def test_receive_async_is_counted_and_a_cancelled_one_is_neither_received_nor_an_error():
    from tests.metrics.receiving import receive_then_cancel_one
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(), metrics)
    layer.send("work", {"n": 1})
    assert receive_then_cancel_one(layer, ["work"], ["nothing"]) == ("work", {"n": 1})
    found = samples(metrics)
    assert value(found, "asgiref_layer_messages_received_total") == 1
    # The first receive_async was timed; the cancelled second is counted as cancelled.
    assert value(found, "asgiref_layer_call_duration_seconds_count", call="receive_wait") == LAYER_CALL_SAMPLE
    assert metrics.layer_call_ends.snapshot() == {"receive_wait cancelled": 1}
    assert value(found, "asgiref_layer_errors_total", call="receive") == 0


@pytest.mark.skipif(six.PY2, reason="receive_async is Python 3's")
def test_a_cancelled_receive_async_is_timed_when_it_is_picked():
    from tests.metrics.receiving import cancel_one
    metrics = Metrics()
    layer = instrument_layer(ChannelLayer(), metrics)
    cancel_one(layer, ["nothing"])
    cancel_one(layer, ["nothing"])
    assert metrics.layer_call_ends.snapshot() == {"receive_wait cancelled": 2}
    # Only the first was picked to be timed.
    assert metrics.layer_call_duration.counts() == {"receive_wait cancelled": LAYER_CALL_SAMPLE}
