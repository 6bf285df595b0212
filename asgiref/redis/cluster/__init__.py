"""
The Redis layer on Redis Cluster (Redis 7 or later):
:class:`RedisClusterChannelLayer` (``layer``), with its key layout and
scripts (``wire``), its seed nodes (``seeds``), the steps its blocking and
asyncio calls share (``steps``), a blocking receive's doorbells
(``doorbells``), the group send's fan-out over the masters (``fanout``)
and, on Python 3, its asyncio calls (``async_calls``).

    from asgiref.redis import RedisClusterChannelLayer
"""
from __future__ import absolute_import

from .layer import RedisClusterChannelLayer, cluster_support

__all__ = ["RedisClusterChannelLayer", "cluster_support"]
