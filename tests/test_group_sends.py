"""The in-memory layer's group sends report and log the members at capacity that missed a message."""
from __future__ import absolute_import, unicode_literals

from asgiref.inmemory import ChannelLayer
from tests import group_sends


def test_full_members_are_reported_and_logged_once_per_group_per_interval(caplog):
    layer = ChannelLayer(capacity=1, channel_capacity={"room.a": 10, "room.b": 10})
    group_sends.full_members_are_reported_and_logged_once_per_interval(layer, caplog, "asgiref.inmemory")


def test_each_group_has_its_own_interval(caplog):
    group_sends.groups_are_logged_apart(ChannelLayer(capacity=1), caplog, "asgiref.inmemory")


def test_the_default_interval_is_a_minute():
    assert ChannelLayer().group_sends.interval == 60
