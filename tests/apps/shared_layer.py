"""
A channel layer that several processes share, for the tests of the split
asgiref interface / asgiref worker processes: an in-memory layer served by a
multiprocessing manager on 127.0.0.1, and a BaseChannelLayer that forwards
every call to it.
"""
from __future__ import absolute_import, unicode_literals

import threading
from multiprocessing.managers import BaseManager

from asgiref.base_layer import BaseChannelLayer
from asgiref.inmemory import ChannelLayer

AUTHKEY = b"asgiref tests"


class _Manager(BaseManager):
    pass


def serve_in_thread():
    """Start serving a fresh in-memory layer; return the port."""
    layer = ChannelLayer(receive_timeout=0.5)
    _Manager.register(str("layer"), callable=lambda: layer)
    server = _Manager(address=("127.0.0.1", 0), authkey=AUTHKEY).get_server()
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    return server.address[1]


class SharedLayer(BaseChannelLayer):
    """The layer served on ``port``, reached from this process."""

    extensions = ["groups", "flush", "statistics"]

    def __init__(self, port, **kwargs):
        super(SharedLayer, self).__init__(**kwargs)
        _Manager.register(str("layer"))
        manager = _Manager(address=("127.0.0.1", port), authkey=AUTHKEY)
        manager.connect()
        self._remote = manager.layer()

    def send(self, channel, message):
        return self._remote.send(channel, message)

    def receive(self, channels, block=False):
        return tuple(self._remote.receive(channels, block))

    def new_channel(self, pattern):
        return self._remote.new_channel(pattern)

    def group_add(self, group, channel):
        return self._remote.group_add(group, channel)

    def group_discard(self, group, channel):
        return self._remote.group_discard(group, channel)

    def group_channels(self, group):
        return self._remote.group_channels(group)

    def send_group(self, group, message):
        return self._remote.send_group(group, message)

    def flush(self):
        return self._remote.flush()

    def global_statistics(self):
        return self._remote.global_statistics()

    def channel_statistics(self, channel):
        return self._remote.channel_statistics(channel)
