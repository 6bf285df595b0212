"""What every layer's group sends must report, as scenarios run on each layer's tests."""
from __future__ import absolute_import, unicode_literals

import logging
import time


def full_members_are_reported_and_logged_once_per_interval(layer, caplog, logger_name):
    """
    A group of three, one of whose members is full: each send reports two
    stored and the full one dropped; the WARNING is written once, then not
    again within the interval, then once more after it, saying how many
    were dropped meanwhile.
    """
    reports = []
    layer.group_sends.observers.append(lambda group, stored, dropped: reports.append((group, stored, dropped)))
    layer.group_sends.interval = 0.5
    for channel in ("room.a", "room.b", "room.full"):
        layer.group_add("room", channel)
    layer.send("room.full", {"text": "fills it"})
    with caplog.at_level(logging.WARNING, logger=logger_name):
        layer.send_group("room", {"text": "one"})
        layer.send_group("room", {"text": "two"})
        layer.send_group("room", {"text": "three"})
        warnings = [record for record in caplog.records if record.name == logger_name]
        assert len(warnings) == 1
        assert warnings[0].levelno == logging.WARNING
        assert warnings[0].getMessage().startswith("group room: 1 member(s) at capacity missed a message: room.full")
        time.sleep(0.6)
        layer.send_group("room", {"text": "four"})
        warnings = [record for record in caplog.records if record.name == logger_name]
    assert len(warnings) == 2
    assert "; 2 more missed since the last line" in warnings[1].getMessage()
    assert reports == [("room", 2, ["room.full"])] * 4
    # The members with room got every message.
    assert [layer.receive(["room.a"])[1]["text"] for _ in range(4)] == ["one", "two", "three", "four"]


def groups_are_logged_apart(layer, caplog, logger_name):
    """One group's line does not silence another's."""
    layer.send("full", {"text": "fills it"})
    for group in ("first", "second"):
        layer.group_add(group, "full")
    with caplog.at_level(logging.WARNING, logger=logger_name):
        layer.send_group("first", {"text": "x"})
        layer.send_group("second", {"text": "x"})
    assert [record.getMessage().split(":")[0] for record in caplog.records if record.name == logger_name] == [
        "group first", "group second"]
