"""
ASGI 1 consumers run on the ASGI 3 server's own event loop, beside the
front: no thread hand-off per message, for consumers that never block.
Python 3.9+ only.
"""
import asyncio


async def consume(consumers):
    """
    Take messages for ``consumers`` (an :class:`asgiref.consumers.Consumers`)
    with ``receive_async`` and call their consumer on this loop, until cancelled.
    """
    layer = consumers.channel_layer
    channels = list(consumers.routes)
    while True:
        channel, message = await layer.receive_async(channels)
        if channel is not None:
            consumers.handle(channel, message)
            # A burst of messages must not starve the connections' own tasks.
            await asyncio.sleep(0)
