"""
The bridge's core: one request's round trip through a layer, as the steps
an exchange asks a front to perform, driven here by hand or with blocking
calls, by no front at all.
"""
from __future__ import absolute_import, unicode_literals

import pytest

from asgiref.bridge import (
    BODY, DONE, DRAIN, PAUSE, POLL, RECEIVE, SEND, BadResponse, Exchange, Refused, ReplyPrefixes, ResponseAborted,
    blocking_call, perform)
from asgiref.inmemory import ChannelLayer


@pytest.fixture
def layer():
    return ChannelLayer(capacity=5, receive_timeout=0.1,
                        channel_capacity={"http.request.body?*": 2, "http.response.*": 3})


def request_message(path="/"):
    return {"method": "POST", "path": path, "query_string": b"", "headers": [], "http_version": "1.1"}


def sent(layer, prefixes=None, body=((b"", False),), path="/"):
    """An exchange whose request (and ``body`` chunks) went out; and the request as the application got it."""
    exchange = Exchange(layer, prefixes or ReplyPrefixes(), path)
    assert perform(layer, exchange.sending("http.request", request_message(path), 1), iter(body)) is None
    return exchange, layer.receive(["http.request"])[1]


def calls_until_not(layer, operation, step):
    """
    Make the layer call of ``step`` and of each step after it that is one,
    sending back results and throwing in errors as ``perform`` does; return
    the first step that is not a layer call (BODY, PAUSE or DONE).
    """
    while step[0] in (SEND, POLL, RECEIVE, DRAIN):
        try:
            outcome = blocking_call(layer, step)
        except Exception as error:
            step = operation.throw(error)
        else:
            step = operation.send(outcome)
    return step


class Recorded(object):
    """An operation whose steps are recorded in ``steps`` as its driver gets them."""

    def __init__(self, operation):
        self.operation = operation
        self.steps = []

    def send(self, value):
        return self._record(self.operation.send(value))

    def throw(self, error):
        return self._record(self.operation.throw(error))

    def close(self):
        self.operation.close()

    def _record(self, step):
        self.steps.append(step)
        return step


def test_prefixes_are_lent_one_per_request_in_flight_and_reused_with_new_channels():
    prefixes = ReplyPrefixes()
    lent = [prefixes.lend() for _ in range(3)]
    assert len(set(prefix for prefix, _ in lent)) == 3
    assert all(channel.startswith(prefix) and prefix.endswith("!") for prefix, channel in lent)
    prefixes.give_back(lent[1][0])
    assert prefixes.in_use == 2
    prefix, channel = prefixes.lend()
    assert prefix == lent[1][0]
    assert channel not in [earlier for _, earlier in lent]
    assert prefixes.lend()[0] not in [earlier for earlier, _ in lent]
    assert prefixes.in_use == 4


def test_the_request_carries_its_reply_channel_and_a_body_channel_when_more_body_follows(layer):
    exchange, request = sent(layer, body=[(b"first", True), (b"second", False)])
    assert request["reply_channel"] == exchange.reply_channel and request["body"] == b"first"
    assert request["body_channel"] == exchange.body_channel
    assert exchange.body_channel.startswith("http.request.body?")
    assert layer.receive([exchange.body_channel])[1] == {"content": b"second", "more_content": False}


def test_a_full_request_channel_or_oversized_headers_refuse_the_request():
    full = ChannelLayer(capacity=1)
    full.send("http.request", {"placeholder": True})
    with pytest.raises(Refused) as refused:
        sent(full)
    assert refused.value.status == 503
    small = ChannelLayer(max_message_size=100)
    exchange = Exchange(small, ReplyPrefixes(), "/")
    request = request_message()
    request["headers"] = [[b"x-big", b"x" * 200]]
    with pytest.raises(Refused) as refused:
        perform(small, exchange.sending("http.request", request, 1), iter([(b"", False)]))
    assert refused.value.status == 431


def test_body_chunks_go_only_while_the_body_channel_has_room_and_the_front_pauses_meanwhile(layer):
    exchange = Exchange(layer, ReplyPrefixes(), "/")
    operation = exchange.sending("http.request", request_message(), 60)
    assert next(operation) == (BODY,)
    for chunk in (b"zero", b"one", b"two"):
        assert calls_until_not(layer, operation, operation.send((chunk, True))) == (BODY,)
    # The body channel holds two chunks: the third is refused, the reply
    # channel looked at, and the front asked to pause before trying again.
    step = calls_until_not(layer, operation, operation.send((b"three", False)))
    assert step[0] == PAUSE and 0 < step[1] <= 0.005
    assert layer.receive([exchange.body_channel])[1] == {"content": b"one", "more_content": True}
    assert calls_until_not(layer, operation, operation.send(None)) == (DONE, None)
    assert [layer.receive([exchange.body_channel])[1]["content"] for _ in range(2)] == [b"two", b"three"]


def test_an_application_that_stops_taking_the_body_gets_504_after_the_send_timeout(layer):
    exchange = Exchange(layer, ReplyPrefixes(), "/")
    with pytest.raises(Refused) as refused:
        perform(layer, exchange.sending("http.request", request_message(), 0.05),
                iter([(b"chunk", True)] * 10 + [(b"", False)]))
    assert refused.value.status == 504


def test_an_application_that_answers_without_taking_the_body_is_answered_and_told_to_stop(layer):
    exchange = Exchange(layer, ReplyPrefixes(), "/")
    operation = Recorded(exchange.sending("http.request", request_message(), 60))
    layer.send(exchange.reply_channel, {"status": 200, "content": b"not read"})
    first = perform(layer, operation, iter([(b"chunk", True)] * 10 + [(b"", False)]))
    assert first["content"] == b"not read"
    # The body went out until its channel was full; then the reply channel was looked at.
    assert [step[0] for step in operation.steps] == [BODY, SEND, BODY, SEND, BODY, SEND, BODY, SEND, POLL, DONE]
    # The closed chunk goes with the response's steps once there is room.
    assert layer.receive([exchange.body_channel])[1] == {"content": b"chunk", "more_content": True}
    assert perform(layer, exchange.response(1, first)) is first
    assert [layer.receive([exchange.body_channel])[1] for _ in range(2)] == [
        {"content": b"chunk", "more_content": True}, {"closed": True}]


def test_a_malformed_response_while_the_body_waits_gets_502(layer):
    exchange = Exchange(layer, ReplyPrefixes(), "/")
    layer.send(exchange.reply_channel, {"status": "200"})
    with pytest.raises(Refused) as refused:
        perform(layer, exchange.sending("http.request", request_message(), 60),
                iter([(b"chunk", True)] * 10 + [(b"", False)]))
    assert refused.value.status == 502


def test_responses_are_checked_and_stale_messages_dropped_and_counted_and_pushes_dropped(layer):
    prefixes = ReplyPrefixes()
    first, _ = sent(layer, prefixes)
    first.close()
    exchange, request = sent(layer, prefixes)
    assert exchange.reply_prefix == first.reply_prefix
    layer.send(first.reply_channel, {"status": 500, "content": b"for the earlier request"})
    layer.send(exchange.reply_channel, {"request": {"path": "/pushed"}})
    layer.send(exchange.reply_channel, {"status": 200, "headers": [], "content": b"a", "more_content": True})
    message = perform(layer, exchange.response(1))
    assert (message["content"], exchange.started, exchange.finished) == (b"a", True, False)
    assert prefixes.dropped == 1
    layer.send(exchange.reply_channel, {"content": b"b"})
    assert perform(layer, exchange.response(1))["content"] == b"b"
    assert exchange.finished


def test_a_malformed_or_closed_response_raises(layer):
    exchange, _ = sent(layer)
    with pytest.raises(BadResponse):
        exchange.accept(exchange.reply_channel, {"status": "200"})
    exchange.accept(exchange.reply_channel, {"status": 200, "more_content": True})
    with pytest.raises(ResponseAborted):
        exchange.accept(exchange.reply_channel, {"content": b"", "closed": True})


@pytest.mark.parametrize("message, status", [({"status": "200"}, 502), (None, 504)])
def test_a_response_that_cannot_start_is_refused(layer, message, status):
    exchange, _ = sent(layer)
    if message is not None:
        layer.send(exchange.reply_channel, message)
    with pytest.raises(Refused) as refused:
        perform(layer, exchange.response(0.2))
    assert refused.value.status == status


@pytest.mark.parametrize("chunk", [{"content": "text"}, {"closed": True}, None])
def test_a_response_that_stops_after_it_started_is_aborted(layer, chunk):
    exchange, _ = sent(layer)
    layer.send(exchange.reply_channel, {"status": 200, "more_content": True})
    perform(layer, exchange.response(1))
    if chunk is not None:
        layer.send(exchange.reply_channel, chunk)
    with pytest.raises(ResponseAborted):
        perform(layer, exchange.response(0.2))


def test_closing_a_finished_exchange_drops_unread_body_and_sends_no_disconnect(layer):
    exchange, request = sent(layer, body=[(b"", True), (b"unread", True), (b"", False)])
    exchange.accept(exchange.reply_channel, {"status": 200, "content": b"answered without reading"})
    exchange.close()
    assert layer.global_statistics()["messages_pending"] == 0


def test_closing_an_unfinished_exchange_drops_its_messages_tells_the_application_and_gives_the_prefix_back(layer):
    prefixes = ReplyPrefixes()
    exchange, request = sent(layer, prefixes, body=[(b"", True), (b"unread", True), (b"", False)], path="/left")
    exchange.accept(exchange.reply_channel, {"status": 200, "more_content": True})
    layer.send(exchange.reply_channel, {"content": b"unread", "more_content": True})
    exchange.close()
    exchange.close()
    assert layer.receive([request["body_channel"]])[1] == {"closed": True}
    assert layer.receive(["http.disconnect"])[1] == {"reply_channel": exchange.reply_channel, "path": "/left"}
    assert layer.global_statistics()["messages_pending"] == 0
    assert prefixes.dropped == 1
    assert prefixes.in_use == 0
    assert prefixes.lend()[0] == exchange.reply_prefix
    assert prefixes.lend()[0] != exchange.reply_prefix


def test_a_request_never_sent_leaves_nothing_behind(layer):
    prefixes = ReplyPrefixes()
    exchange = Exchange(layer, prefixes, "/")
    exchange.close()
    assert layer.global_statistics()["messages_pending"] == 0
    assert prefixes.lend()[0] == exchange.reply_prefix
