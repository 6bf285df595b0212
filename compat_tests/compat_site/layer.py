"""
The in-memory layer as Channels 1.x gets it, noting what each runserver
worker thread passes to ``receive``, so a test can see that Channels' own
collection of channel names (a set) is what our layer was given.
"""
import threading

from channels.management.commands.runserver import WorkerThread

from asgiref.inmemory import ChannelLayer


class RecordingLayer(ChannelLayer):
    """``asgiref.inmemory.ChannelLayer``, recording the type of ``channels`` a worker thread receives on."""

    def __init__(self, *args, **kwargs):
        super(RecordingLayer, self).__init__(*args, **kwargs)
        self.worker_receive_types = set()

    def receive(self, channels, block=False):
        if isinstance(threading.current_thread(), WorkerThread):
            self.worker_receive_types.add(type(channels).__name__)
        return super(RecordingLayer, self).receive(channels, block)
