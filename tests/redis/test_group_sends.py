"""The Redis layer's group sends report and log the members at capacity that missed a message (as Redis says)."""
from __future__ import absolute_import, unicode_literals

import pytest

from tests import group_sends
from tests.redis_servers import redis_server  # noqa: F401 (a fixture)


@pytest.fixture
def layer(redis_server):  # noqa: F811
    from asgiref.redis import RedisChannelLayer
    made = RedisChannelLayer(hosts=[redis_server.url], capacity=1, channel_capacity={"room.a": 10, "room.b": 10})
    yield made
    made.flush()


def test_full_members_are_reported_and_logged_once_per_group_per_interval(layer, caplog):
    group_sends.full_members_are_reported_and_logged_once_per_interval(layer, caplog, "asgiref.redis.layer")


def test_each_group_has_its_own_interval(layer, caplog):
    group_sends.groups_are_logged_apart(layer, caplog, "asgiref.redis.layer")
