"""
``Consumers``: ASGI 1 consumers called in worker threads with each message
of their channel and the layer, as Channels 1's ``runserver`` called them.
"""
from __future__ import absolute_import, unicode_literals

import threading
import time

import pytest

from asgiref.consumers import Consumers
from asgiref.inmemory import ChannelLayer


def test_each_consumer_gets_the_messages_of_its_channel_and_the_layer():
    # A short receive timeout: the threads notice stop() within it.
    layer = ChannelLayer(receive_timeout=0.2)
    seen = []
    done = threading.Event()

    def reply(message, channel_layer):
        channel_layer.send(message["reply_channel"], {"echo": message["n"]})

    def count(message, channel_layer):
        seen.append(message["n"])
        done.set()
    consumers = Consumers({"test.reply": reply, "test.count": count}, layer)
    consumers.start(2)
    try:
        layer.send("test.reply", {"reply_channel": "test.answer!1", "n": 1})
        layer.send("test.count", {"n": 2})
        assert layer.receive(["test.answer!"], block=True) == ("test.answer!1", {"echo": 1})
        assert done.wait(5) and seen == [2]
    finally:
        assert consumers.stop(5) is True


def test_a_consumer_that_raises_is_logged_and_the_worker_goes_on(caplog):
    layer = ChannelLayer(receive_timeout=0.2)
    answered = threading.Event()

    def fragile(message, channel_layer):
        if message["fail"]:
            raise RuntimeError("consumer broke")
        answered.set()
    consumers = Consumers({"test.fragile": fragile}, layer)
    consumers.start(1)
    try:
        layer.send("test.fragile", {"fail": True})
        layer.send("test.fragile", {"fail": False})
        assert answered.wait(5)
    finally:
        consumers.stop(5)
    assert "consumer of test.fragile failed on a message" in caplog.text
    assert "consumer broke" in caplog.text


@pytest.mark.parametrize("routes, problem", [
    ({}, "non-empty dict"),
    ([("test.channel", len)], "non-empty dict"),
    ({"test.channel": "not callable"}, "is not callable"),
])
def test_bad_routes_are_refused_naming_the_problem(routes, problem):
    with pytest.raises(TypeError) as raised:
        Consumers(routes, ChannelLayer())
    assert problem in str(raised.value)


def test_a_bad_channel_name_in_the_routes_is_refused():
    with pytest.raises(TypeError):
        Consumers({"bad name": len}, ChannelLayer())


def test_stop_waits_the_timeout_in_all_and_says_whether_every_thread_ended():
    layer = ChannelLayer(receive_timeout=0.1)
    release = threading.Event()
    consumers = Consumers({"test.slow": lambda message, channel_layer: release.wait(10)}, layer)
    consumers.start(3)
    for _ in range(3):
        layer.send("test.slow", {})
    time.sleep(0.3)
    started = time.time()
    assert consumers.stop(0.5) is False
    # One timeout for all three threads, not one each.
    assert time.time() - started < 1.4
    release.set()
