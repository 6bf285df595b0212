"""
ASGI 1 consumers run on the ASGI 3 server's own event loop, beside the
front: no thread hand-off per message, for consumers that never block.
Python 3.9+ only.
"""
import asyncio


async def consume(consumers):
    """
    Take messages for ``consumers`` (an :class:`asgiref.consumers.Consumers`)
    with ``receive_async`` and call their consumer on this loop, until
    cancelled. A layer that fails is retried with the backoff and the log of
    the consumers' threads (``consumers.outage``).
    """
    layer = consumers.channel_layer
    channels = list(consumers.routes)
    backoff = consumers.outage.backoff()
    while True:
        try:
            channel, message = await layer.receive_async(channels)
        except Exception as error:
            await asyncio.sleep(backoff.failed(error))
            continue
        backoff.succeeded()
        if channel is not None:
            consumers.handle(channel, message)
            # A burst of messages must not starve the connections' own tasks.
            await asyncio.sleep(0)
