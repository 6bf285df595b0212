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

from .base_layer import random_name_part

logger = logging.getLogger("asgiref.asgi3")


class Mailbox(object):
    """
    The messages for one reply channel, up to ``bound`` waiting; one more
    marks it ``overflowed`` (its client is slower than its application) and
    is dropped.
    """

    def __init__(self, channel, bound):
        self.channel = channel
        self.bound = bound
        self.overflowed = False
        self._messages = collections.deque()
        self._waiter = None

    def deliver(self, message):
        if len(self._messages) >= self.bound:
            self.overflowed = True
        else:
            self._messages.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, timeout=None):
        """The next message; None if ``timeout`` seconds pass first, or once overflowed."""
        while not self._messages and not self.overflowed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout) if timeout is not None else await self._waiter
            except asyncio.TimeoutError:
                return None
            finally:
                self._waiter = None
        if self.overflowed:
            return None
        return self._messages.popleft()


class Mailboxes(object):
    """
    Reply channels ``NAME.RANDOM!N`` for the sockets of this process, and
    the one task, started with the first and ended after the last, that
    receives for all of them.
    """

    def __init__(self, channel_layer, name, bound=64):
        self.channel_layer = channel_layer
        self.prefix = "%s%s!" % (name, random_name_part())
        self.bound = bound
        self._serial = itertools.count()
        self._open = {}
        self._receiving = None

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
            except Exception:
                # A layer failure (Redis away) must not end the sockets' only receive.
                logger.exception("receiving on %s failed; trying again in a second", self.prefix)
                await asyncio.sleep(1)
                continue
            mailbox = self._open.get(channel)
            if mailbox is not None:
                mailbox.deliver(message)
