"""
Responses for every request of an adapter, received behind one reply prefix.
"""
from __future__ import unicode_literals

import logging
import threading
import time
from collections import OrderedDict, deque

from .layer_calls import clock, receive_blocking
from .wakeup import Wakeup

logger = logging.getLogger("asgiref.wsgi")


class ReplyDispatcher(object):
    """
    Delivers the messages sent to an adapter's reply channels.

    One receive on the reply prefix runs at a time, made by a request thread
    that is waiting (the leader): it keeps its own messages and hands the
    others to their threads; when it has what it waited for, a sleeping one
    takes over. A lone request so receives its response itself, with no
    thread switch; under load, responses are handed over as a dispatcher
    thread of its own would hand them.
    """

    def __init__(self, channel_layer, prefix):
        self.channel_layer = channel_layer
        self.prefix = prefix
        self._lock = threading.Lock()
        self._mailboxes = {}
        self._sleeping = OrderedDict()
        self._leader = None

    def expect(self, reply_channel):
        """The mailbox that will hold the messages sent to ``reply_channel``."""
        mailbox = Mailbox()
        with self._lock:
            self._mailboxes[reply_channel] = mailbox
        return mailbox

    def forget(self, reply_channel):
        """Drop whatever comes for ``reply_channel`` from now on."""
        with self._lock:
            self._mailboxes.pop(reply_channel, None)

    def next_message(self, mailbox, timeout):
        """The next message in ``mailbox``, or None after ``timeout`` seconds."""
        deadline = clock() + timeout
        with self._lock:
            try:
                while not mailbox.messages:
                    remaining = deadline - clock()
                    if remaining <= 0:
                        return None
                    if self._leader is None or self._leader is mailbox:
                        self._leader = mailbox
                        self._receive_once()
                    else:
                        if mailbox.wakeup is None:
                            mailbox.wakeup = Wakeup()
                        self._sleeping[mailbox] = None
                        mailbox.wakeup.wait(self._lock, remaining)
                        self._sleeping.pop(mailbox, None)
                return mailbox.messages.popleft()
            finally:
                if self._leader is mailbox:
                    self._leader = None
                    if self._sleeping:
                        # Someone else is waiting: they receive from now on.
                        self._wake(next(iter(self._sleeping)))

    def _receive_once(self):
        """One blocking receive, the lock released meanwhile; the message goes to its mailbox."""
        self._lock.release()
        try:
            channel, message = receive_blocking(self.channel_layer, [self.prefix])
        except Exception:
            logger.exception("receiving responses on %s failed", self.prefix)
            time.sleep(1)
            channel = None
        finally:
            self._lock.acquire()
        mailbox = self._mailboxes.get(channel) if channel is not None else None
        if mailbox is not None:
            mailbox.messages.append(message)
            self._wake(mailbox)

    def _wake(self, mailbox):
        if mailbox in self._sleeping:
            del self._sleeping[mailbox]
            mailbox.wakeup.ring()


class Mailbox(object):
    """The messages for one reply channel, and the wake-up call of its thread, once it has slept."""

    __slots__ = ("messages", "wakeup")

    def __init__(self):
        self.messages = deque()
        self.wakeup = None
