"""The bridge's core: one request's round trip through a layer, driven without blocking, by no front at all."""
from __future__ import unicode_literals

import pytest

from asgiref.bridge import BadResponse, Exchange, Refused, ReplyPrefixes, ResponseAborted
from asgiref.inmemory import ChannelLayer


@pytest.fixture
def layer():
    return ChannelLayer(capacity=5, channel_capacity={"http.request.body?*": 2, "http.response.*": 3})


def request_message(path="/"):
    return {"method": "POST", "path": path, "query_string": b"", "headers": [], "http_version": "1.1"}


def sent(layer, prefixes=None, more_body=False, path="/"):
    exchange = Exchange(layer, prefixes or ReplyPrefixes(), path)
    exchange.send_request("http.request", request_message(path), more_body)
    return exchange, layer.receive(["http.request"])[1]


def test_prefixes_are_lent_one_per_request_in_flight_and_reused_with_new_channels():
    prefixes = ReplyPrefixes()
    lent = [prefixes.lend() for _ in range(3)]
    assert len(set(prefix for prefix, _ in lent)) == 3
    assert all(channel.startswith(prefix) and prefix.endswith("!") for prefix, channel in lent)
    prefixes.give_back(lent[1][0])
    prefix, channel = prefixes.lend()
    assert prefix == lent[1][0]
    assert channel not in [earlier for _, earlier in lent]
    assert prefixes.lend()[0] not in [earlier for earlier, _ in lent]


def test_the_request_carries_its_reply_channel_and_a_body_channel_when_more_body_follows(layer):
    exchange, request = sent(layer, more_body=True)
    assert request["reply_channel"] == exchange.reply_channel
    assert request["body_channel"] == exchange.body_channel
    assert exchange.body_channel.startswith("http.request.body?")


def test_a_full_request_channel_or_oversized_headers_refuse_the_request():
    full = ChannelLayer(capacity=1)
    full.send("http.request", {"placeholder": True})
    with pytest.raises(Refused) as refused:
        Exchange(full, ReplyPrefixes(), "/").send_request("http.request", request_message(), False)
    assert refused.value.status == 503
    small = ChannelLayer(max_message_size=100)
    request = request_message()
    request["headers"] = [[b"x-big", b"x" * 200]]
    with pytest.raises(Refused) as refused:
        Exchange(small, ReplyPrefixes(), "/").send_request("http.request", request, False)
    assert refused.value.status == 431


def test_body_chunks_go_only_while_the_body_channel_has_room(layer):
    exchange, request = sent(layer, more_body=True)
    assert exchange.offer_body(b"one", True) and exchange.offer_body(b"two", True)
    assert exchange.offer_body(b"three", False) is False
    assert layer.receive([request["body_channel"]])[1] == {"content": b"one", "more_content": True}
    assert exchange.offer_body(b"three", False) is True


def test_poll_returns_nothing_at_once_when_no_response_waits(layer):
    exchange, _ = sent(layer)
    assert exchange.poll() is None


def test_responses_are_checked_and_stale_messages_and_pushes_dropped(layer):
    prefixes = ReplyPrefixes()
    first, _ = sent(layer, prefixes)
    first.close()
    exchange, request = sent(layer, prefixes)
    assert exchange.reply_prefix == first.reply_prefix
    layer.send(first.reply_channel, {"status": 500, "content": b"for the earlier request"})
    layer.send(exchange.reply_channel, {"request": {"path": "/pushed"}})
    layer.send(exchange.reply_channel, {"status": 200, "headers": [], "content": b"a", "more_content": True})
    message = exchange.poll()
    assert (message["content"], exchange.started, exchange.finished) == (b"a", True, False)
    layer.send(exchange.reply_channel, {"content": b"b"})
    assert exchange.poll()["content"] == b"b"
    assert exchange.finished


def test_a_malformed_or_closed_response_raises(layer):
    exchange, _ = sent(layer)
    with pytest.raises(BadResponse):
        exchange.accept(exchange.reply_channel, {"status": "200"})
    exchange.accept(exchange.reply_channel, {"status": 200, "more_content": True})
    with pytest.raises(ResponseAborted):
        exchange.accept(exchange.reply_channel, {"content": b"", "closed": True})


def test_closing_a_finished_exchange_drops_unread_body_and_sends_no_disconnect(layer):
    exchange, request = sent(layer, more_body=True)
    exchange.offer_body(b"unread", True)
    exchange.accept(exchange.reply_channel, {"status": 200, "content": b"answered without reading"})
    exchange.close()
    assert layer.global_statistics()["messages_pending"] == 0


def test_closing_an_unfinished_exchange_drops_its_messages_tells_the_application_and_gives_the_prefix_back(layer):
    prefixes = ReplyPrefixes()
    exchange, request = sent(layer, prefixes, more_body=True, path="/left")
    exchange.offer_body(b"unread", True)
    exchange.accept(exchange.reply_channel, {"status": 200, "more_content": True})
    layer.send(exchange.reply_channel, {"content": b"unread", "more_content": True})
    exchange.close()
    exchange.close()
    assert layer.receive([request["body_channel"]])[1] == {"closed": True}
    assert layer.receive(["http.disconnect"])[1] == {"reply_channel": exchange.reply_channel, "path": "/left"}
    assert layer.global_statistics()["messages_pending"] == 0
    assert prefixes.lend()[0] == exchange.reply_prefix
    assert prefixes.lend()[0] != exchange.reply_prefix


def test_a_request_never_sent_leaves_nothing_behind(layer):
    prefixes = ReplyPrefixes()
    exchange = Exchange(layer, prefixes, "/")
    exchange.close()
    assert layer.global_statistics()["messages_pending"] == 0
    assert prefixes.lend()[0] == exchange.reply_prefix
