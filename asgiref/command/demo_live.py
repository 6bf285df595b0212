"""
The demo page's live view: ASGI 1 WebSocket consumers that send every
connected browser the channel layer's statistics once a second, through a
group, so a new user sees WebSockets cross the layer too.
"""
from __future__ import unicode_literals

import json
import logging
import threading

from ..bridge.defaults import STOP_TIMEOUT
from ..bridge.layer_calls import Outage

#: The WebSocket path the demo page opens.
PATH = "/live-statistics"

_GROUP = "asgiref-demo-statistics"

logger = logging.getLogger("asgiref.demo")


class LiveStatistics(object):
    """
    The consumers (:attr:`routes`) and the thread that sends the statistics
    every ``interval`` seconds; while the layer fails, the thread waits the
    longer of the interval and its backoff, and :attr:`outage` logs it once.
    """

    def __init__(self, channel_layer, interval=1.0):
        self.channel_layer = channel_layer
        self.interval = interval
        self.routes = {"websocket.connect": self.connect, "websocket.disconnect": self.disconnect,
                       "websocket.receive": self.ignore}
        self._stopping = threading.Event()
        self._thread = None
        self.outage = Outage(logger, "asgiref demo statistics")

    def connect(self, message, channel_layer):
        """Accept a browser on the demo's path and add it to the group; refuse any other path."""
        if message.get("path") != PATH:
            channel_layer.send(message["reply_channel"], {"accept": False})
            return
        channel_layer.group_add(_GROUP, message["reply_channel"])
        channel_layer.send(message["reply_channel"], {"accept": True, "text": self._statistics()})

    def disconnect(self, message, channel_layer):
        channel_layer.group_discard(_GROUP, message["reply_channel"])

    def ignore(self, message, channel_layer):
        """What a browser sends is not needed."""

    def start(self):
        """Start sending the statistics."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._tick, name="asgiref demo statistics")
        self._thread.daemon = True
        self._thread.start()

    def stop(self, timeout=STOP_TIMEOUT):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _tick(self):
        backoff = self.outage.backoff()
        wait = self.interval
        while not self._stopping.wait(wait):
            try:
                self.channel_layer.send_group(_GROUP, {"text": self._statistics()})
            except Exception as error:
                wait = max(self.interval, backoff.failed(error))
                continue
            backoff.succeeded()
            wait = self.interval

    def _statistics(self):
        layer = self.channel_layer
        return json.dumps({"layer": layer.global_statistics(),
                           "http.request": layer.channel_statistics("http.request")}, sort_keys=True)
