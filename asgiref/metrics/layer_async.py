"""
The asyncio half of :func:`asgiref.metrics.layer.instrument_layer`:
``receive_async`` and ``send_async`` timed, keyed by how they ended.
Python 3 only.
"""
import asyncio
import functools

from ..bridge.layer_calls import clock
from .collectors import CANCELLED, DONE, EMPTY, call_key


def asynchronous_receive(counter, method):
    """``receive_async`` (a waiting receive), counted by ``counter``."""
    observe, outcome = counter.observe, counter.outcome
    # Indexed by whether the receive found nothing.
    ends = (call_key("receive_wait", DONE), call_key("receive_wait", EMPTY))
    cancelled = call_key("receive_wait", CANCELLED)

    @functools.wraps(method)
    async def receive_async(channels):
        started = clock()
        try:
            channel, message = await method(channels)
        except asyncio.CancelledError:
            # An Exception before Python 3.8, yet a cancellation, not a failure.
            observe(cancelled, clock() - started)
            raise
        except BaseException as error:
            observe(call_key("receive_wait", outcome(error)), clock() - started)
            raise
        observe(ends[channel is None], clock() - started)
        return channel, message
    return receive_async


def asynchronous_send(counter, method):
    """``send_async``, counted by ``counter``."""
    observe, outcome = counter.observe, counter.outcome
    done = call_key("send", DONE)
    cancelled = call_key("send", CANCELLED)

    @functools.wraps(method)
    async def send_async(channel, message):
        started = clock()
        try:
            result = await method(channel, message)
        except asyncio.CancelledError:
            observe(cancelled, clock() - started)
            raise
        except BaseException as error:
            observe(call_key("send", outcome(error)), clock() - started)
            raise
        observe(done, clock() - started)
        return result
    return send_async
