"""
The asyncio half of :func:`asgiref.metrics.layer.instrument_layer`:
``receive_async`` and ``send_async`` counted, and a sample of them timed,
as the blocking calls are. Python 3 only.
"""
import asyncio
import functools

from ..bridge.layer_calls import clock
from .collectors import CANCELLED, DONE, EMPTY, call_key
from .layer import SAMPLE_MASK


def asynchronous_receive(counter, method):
    """``receive_async`` (a waiting receive), counted by ``counter``."""
    calls, received = counter.sample_counter("receive_wait"), counter.received
    observe, outcome, ended = counter.observe, counter.outcome, counter.ended
    # Indexed by whether the receive found nothing.
    ends = (call_key("receive_wait", DONE), call_key("receive_wait", EMPTY))

    @functools.wraps(method)
    async def receive_async(channels):
        started = None if next(calls) & SAMPLE_MASK else clock()
        try:
            channel, message = await method(channels)
        except asyncio.CancelledError:
            # An Exception before Python 3.8, yet a cancellation, not a failure.
            ended("receive_wait", CANCELLED, started)
            raise
        except BaseException as error:
            ended("receive_wait", outcome(error), started)
            raise
        if channel is not None:
            next(received)
        if started is not None:
            observe(ends[channel is None], clock() - started)
        return channel, message
    return receive_async


def asynchronous_send(counter, method):
    """``send_async``, counted by ``counter``."""
    calls, sent = counter.sample_counter("send"), counter.sent
    observe, outcome, ended = counter.observe, counter.outcome, counter.ended
    done = call_key("send", DONE)

    @functools.wraps(method)
    async def send_async(channel, message):
        started = None if next(calls) & SAMPLE_MASK else clock()
        try:
            result = await method(channel, message)
        except asyncio.CancelledError:
            ended("send", CANCELLED, started)
            raise
        except BaseException as error:
            ended("send", outcome(error), started)
            raise
        next(sent)
        if started is not None:
            observe(done, clock() - started)
        return result
    return send_async
