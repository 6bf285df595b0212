"""
One receive per process for the ASGI 3 front's WebSockets: a single task
awaits ``receive_async`` on one process-specific prefix and hands each
message to the mailbox of the socket whose reply channel it names. Open
sockets so cost the layer one waiting receive, whatever their number (a
Redis layer: one connection, not one per socket). Python 3.9+ only.
"""
import asyncio
import collections
import itertools
import logging

from ..base_layer import random_name_part
from ..bridge.layer_calls import Outage

logger = logging.getLogger("asgiref.asgi3")


class Mailbox(object):
    """
    The messages for one reply channel, up to ``bound`` waiting; one more
    marks it ``overflowed`` (its client is slower than its application) and
    is dropped. A receive that failed marks it ``lost`` (its messages may
    be gone with the layer).
    """

    def __init__(self, channel, bound):
        self.channel = channel
        self.bound = bound
        self.overflowed = False
        self.lost = False
        self._messages = collections.deque()
        self._waiter = None

    def deliver(self, message):
        if len(self._messages) >= self.bound:
            self.overflowed = True
        else:
            self._messages.append(message)
        self._wake()

    def lose(self):
        """The layer failed: no message may come any more."""
        self.lost = True
        self._wake()

    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, timeout=None):
        """The next message; None if ``timeout`` seconds pass first, or once overflowed or lost."""
        while not self._messages and not self.overflowed and not self.lost:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout) if timeout is not None else await self._waiter
            except asyncio.TimeoutError:
                return None
            finally:
                self._waiter = None
        if self.overflowed or self.lost:
            return None
        return self._messages.popleft()


class Mailboxes(object):
    """
    Reply channels ``NAME.RANDOM!N`` for the sockets of this process, and
    the one task, started with the first and ended after the last, that
    receives for all of them. When that receive fails (the layer is away),
    every open mailbox is lost and the receive backs off (50 ms, doubling up
    to 1.6 s), logged once by ``outage``.
    """

    def __init__(self, channel_layer, name, bound=64, outage=None):
        self.channel_layer = channel_layer
        self.prefix = "%s%s!" % (name, random_name_part())
        self.bound = bound
        self._serial = itertools.count()
        self._open = {}
        self._receiving = None
        # One backoff across the receive tasks: a task ends with the last socket.
        self._backoff = (outage or Outage(logger, "asgiref WebSocket replies")).backoff()

    def open(self):
        """A mailbox for a new reply channel; close it when the socket is over."""
        mailbox = Mailbox("%s%d" % (self.prefix, next(self._serial)), self.bound)
        self._open[mailbox.channel] = mailbox
        receiving = self._receiving
        if receiving is None or receiving.done() or receiving.get_loop() is not asyncio.get_running_loop():
            self._receiving = asyncio.ensure_future(self._receive())
        return mailbox

    def close(self, mailbox):
        """Messages for the channel from now on are dropped."""
        self._open.pop(mailbox.channel, None)

    async def _receive(self):
        layer = self.channel_layer
        while self._open:
            try:
                channel, message = await layer.receive_async([self.prefix])
            except Exception as error:
                # The sockets' replies may be lost with the layer: each ends,
                # and this, their only receive, tries again later.
                for mailbox in list(self._open.values()):
                    mailbox.lose()
                await asyncio.sleep(self._backoff.failed(error))
                continue
            self._backoff.succeeded()
            mailbox = self._open.get(channel)
            if mailbox is not None:
                mailbox.deliver(message)
