"""
The asyncio half of :func:`asgiref.metrics.layer.instrument_layer`:
``receive_async`` and ``send_async`` counted and timed. Python 3 only.
"""
import functools

from ..bridge.layer_calls import clock
from .collectors import RECEIVED, SENT


def asynchronous_receive(counter, method):
    """``receive_async`` (a waiting receive), counted by ``counter``."""
    observe, count = counter.observe, counter.count

    @functools.wraps(method)
    async def receive_async(channels):
        started = clock()
        try:
            channel, message = await method(channels)
        except Exception as error:
            counter.failed("receive", error)
            raise
        finally:
            observe("receive_wait", clock() - started)
        if channel is not None:
            count(RECEIVED)
        return channel, message
    return receive_async


def asynchronous_send(counter, method):
    """``send_async``, counted by ``counter``."""
    observe, count = counter.observe, counter.count

    @functools.wraps(method)
    async def send_async(channel, message):
        started = clock()
        try:
            result = await method(channel, message)
        except Exception as error:
            counter.failed("send", error)
            raise
        finally:
            observe("send", clock() - started)
        count(SENT)
        return result
    return send_async
