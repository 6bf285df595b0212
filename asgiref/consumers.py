"""
``Consumers``: ASGI 1 consumers run in threads of this process, as Channels
1's ``runserver`` ran them: a routing dict maps channel names
(``websocket.connect``, ``websocket.receive``, ``http.request``, ...) to
callables ``consumer(message, channel_layer)``.
"""
from __future__ import unicode_literals

import logging
import threading

from .base_layer import check_positive_int
from .bridge.defaults import STOP_TIMEOUT
from .bridge.layer_calls import Outage, clock, failed_under, one_line, receive_until
from .bridge.threads import join_by, start_daemon_threads

logger = logging.getLogger("asgiref.consumers")


class Consumers(object):
    """
    Worker threads that take messages from ``channel_layer`` on the channels
    of ``routes`` and call each channel's consumer with the message and the
    layer. A consumer that raises is logged; the worker goes on. A layer
    that fails stops no worker: each backs off (50 ms, doubling up to 1.6 s)
    and :attr:`outage` logs it once, and once when it works again.
    """

    def __init__(self, routes, channel_layer):
        if not isinstance(routes, dict) or not routes:
            raise TypeError("routes must be a non-empty dict of channel name -> consumer, not %r" % (routes,))
        for channel, consumer in routes.items():
            channel_layer.valid_channel_name(channel, receive=True)
            if not callable(consumer):
                raise TypeError("routes[%r] is not callable: %r" % (channel, consumer))
        self.routes = dict(routes)
        self.channel_layer = channel_layer
        self._stopping = threading.Event()
        self._threads = []
        #: What the consumer threads (or the loop, asgiref.asgi3.consumers) log about a failing layer.
        self.outage = Outage(logger, "asgiref consumers")

    def start(self, threads=1):
        """Start ``threads`` worker threads and return."""
        check_positive_int("threads", threads)
        self._stopping.clear()
        self._threads.extend(start_daemon_threads(self._serve, threads, "asgiref consumer"))

    @property
    def threads(self):
        """The threads started and not stopped yet."""
        return list(self._threads)

    def stop(self, timeout=STOP_TIMEOUT):
        """
        Stop taking messages; wait up to ``timeout`` seconds in all for the
        threads to end. False if one has not (it is a daemon thread).
        """
        self._stopping.set()
        ended = join_by(self._threads, clock() + timeout)
        self._threads = []
        return ended

    def handle(self, channel, message):
        """
        Call the consumer of ``channel`` with ``message``; log what it raises:
        its traceback, or one line if the layer failed under it.
        """
        try:
            self.routes[channel](message, self.channel_layer)
        except Exception as error:
            if not failed_under(self.channel_layer, error):
                logger.exception("consumer of %s failed on a message", channel)
                return
            logger.warning("consumer of %s did not finish: the channel layer failed (%s)", channel, one_line(error))
            self.outage.failed(error)

    def _serve(self):
        for channel, message in receive_until(self.channel_layer, list(self.routes), self._stopping, self.outage):
            if channel is not None:
                self.handle(channel, message)
