"""
The channel-layer calls of the ASGI 3 front, awaited on the server's event
loop, which never waits on a blocking layer call: sends go through the
layer's ``send_async``, waiting receives through ``receive_async``, and the
calls a layer has only in blocking form run off the loop, in the loop's
default executor. Only a layer whose calls never wait on I/O (the in-memory
layer: a lock and a dict) is called directly. Python 3.9+ only.
"""
import asyncio
import functools
import logging

from ..bridge import BODY, DONE, PAUSE, POLL, RECEIVE, SEND, blocking_call
from ..bridge.layer_calls import Patience, clock, layer_call
from ..inmemory import ChannelLayer as InMemoryChannelLayer

logger = logging.getLogger("asgiref.asgi3")

# Close tasks not yet over: the loop keeps only weak references to tasks.
_closing = set()


def waits_on_io(channel_layer):
    """Whether ``channel_layer``'s blocking calls may wait on I/O (every layer but the in-memory one)."""
    return not isinstance(channel_layer, InMemoryChannelLayer)


def off_loop(function, *args):
    """``function(*args)`` in the running loop's default executor, awaitable."""
    return asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


async def send(channel_layer, channel, message):
    """``channel_layer.send(channel, message)`` without blocking the loop: ``send_async`` where the layer has it."""
    send_async = getattr(channel_layer, "send_async", None)
    if send_async is not None:
        return await send_async(channel, message)
    if waits_on_io(channel_layer):
        return await off_loop(channel_layer.send, channel, message)
    return channel_layer.send(channel, message)


async def send_patiently(channel_layer, channel, message, timeout):
    """
    Send, retrying with the bridge's backoff while the channel is full, for
    up to ``timeout`` seconds; then ChannelFull is raised.
    """
    patience = Patience(timeout)
    while True:
        try:
            return await send(channel_layer, channel, message)
        except channel_layer.ChannelFull:
            delay = patience.next_delay()
            if delay is None:
                raise
            await asyncio.sleep(delay)


class LayerCalls(object):
    """
    Performs the steps of one :class:`asgiref.bridge.Exchange` on the event
    loop, one call at a time, never blocking it (see the module's
    docstring), and never cancelling a call. A call whose caller is
    cancelled (the client left) or whose deadline passes goes on as
    ``in_flight``; :meth:`close_soon` lets it end, drops and counts what it
    received, and only then cleans up and gives the reply prefix back. So
    no receive left running on a prefix can take the messages of the next
    request that borrows it.
    """

    def __init__(self, channel_layer):
        self.channel_layer = channel_layer
        #: ``(kind, future)`` of a call whose result nobody has taken yet, or None.
        self.in_flight = None
        self._direct = not waits_on_io(channel_layer)

    async def perform(self, steps, body=None):
        """Carry out an exchange operation's ``steps``, awaiting ``body()`` for body chunks; return its result."""
        outcome = error = None
        while True:
            step = steps.send(outcome) if error is None else steps.throw(error)
            kind = step[0]
            if kind == DONE:
                steps.close()
                return step[1]
            outcome = error = None
            try:
                if kind == BODY:
                    outcome = await body()
                elif kind == PAUSE:
                    await asyncio.sleep(step[1])
                elif kind == RECEIVE:
                    outcome = await self._receive(step[1], step[2])
                elif self._direct:
                    outcome = blocking_call(self.channel_layer, step)
                else:
                    outcome = await self._finished(kind, asyncio.ensure_future(self._call(step)))
            except Exception as raised:
                error = raised

    def close_soon(self, exchange):
        """
        Run ``exchange.closing()`` in a task of its own, once the call in
        flight (if any) is over, then give the exchange's prefix back.
        """
        task = asyncio.ensure_future(self._close(exchange))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _close(self, exchange):
        try:
            if self.in_flight is not None:
                kind, call = self.in_flight
                self.in_flight = None
                try:
                    outcome = await call
                except Exception:
                    outcome = None
                if kind in (RECEIVE, POLL) and outcome and outcome[0] is not None:
                    exchange.discard(outcome[0])
            await self.perform(exchange.closing())
        except Exception as error:
            # The layer is failing (what is left expires there); whatever
            # answers for the outage logs it, not each request's clean-up.
            logger.debug("cleaning up after %s failed: %s", exchange.reply_channel, error)
        finally:
            exchange.release()

    async def _receive(self, channel, deadline):
        remaining = deadline - clock()
        if remaining <= 0:
            return None, None
        call = asyncio.ensure_future(self.channel_layer.receive_async([channel]))
        self.in_flight = RECEIVE, call
        done, _ = await asyncio.wait([call], timeout=remaining)
        if not done:
            # Past the deadline: the receive goes on, in flight, for close_soon.
            return None, None
        self.in_flight = None
        with layer_call(self.channel_layer):
            return call.result()

    async def _finished(self, kind, call):
        """``call``'s result; if this task is cancelled meanwhile, the call goes on, in flight."""
        self.in_flight = kind, call
        try:
            outcome = await asyncio.shield(call)
        except Exception:
            self.in_flight = None
            raise
        self.in_flight = None
        return outcome

    async def _call(self, step):
        """A SEND, POLL or DRAIN step's call: a send through ``send_async``, else the blocking call off the loop."""
        send_async = getattr(self.channel_layer, "send_async", None)
        if step[0] == SEND and send_async is not None:
            with layer_call(self.channel_layer):
                return await send_async(step[1], step[2])
        return await off_loop(blocking_call, self.channel_layer, step)
