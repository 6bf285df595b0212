"""
The Redis channel layer (``pip install ".[redis]"``): asgi_redis 1.4's
layers on current redis-py.

    from asgiref.redis import RedisChannelLayer

``RedisClusterChannelLayer`` runs on Redis Cluster (redis-py 4.6 or later).
The layers (and redis-py with them) are imported when first asked for, not
with this package: the asgiref command checks ``--layer`` URLs with
``asgiref.redis.urls`` without the redis extra, and starts without loading
redis-py unless it serves a Redis layer. On Python 3 the layers get
``receive_async`` and ``send_async`` (``async_calls``, on redis.asyncio;
``await close_clients(layer)`` closes their connections); Python 2 never
imports that module.
"""
from __future__ import absolute_import

import importlib
import sys
import types

import six

__all__ = ["ChannelLayer", "RedisChannelLayer", "RedisClusterChannelLayer", "RedisSentinelChannelLayer",
           "RedisUnavailable"]

# Where each name the package hands out is defined (PREFETCH and, on
# Python 3, close_clients are documented here too).
_DEFINED_IN = {
    "ChannelLayer": ".layer",
    "PREFETCH": ".layer",
    "RedisChannelLayer": ".layer",
    "RedisClusterChannelLayer": ".cluster",
    "RedisSentinelChannelLayer": ".sentinel",
    "RedisUnavailable": ".connection",
}
if not six.PY2:
    _DEFINED_IN["close_clients"] = ".async_calls"


class _Package(types.ModuleType):
    """This package, whose exported names are imported on first use."""

    def __getattr__(self, name):
        if name not in _DEFINED_IN:
            raise AttributeError("module %r has no attribute %r" % (self.__name__, name))
        value = getattr(importlib.import_module(_DEFINED_IN[name], self.__name__), name)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted(set(self.__dict__) | set(_DEFINED_IN))


# Python 2 cannot change a module's class: the package becomes a _Package
# holding this module's names. The module itself is kept, as Python 2 empties
# the namespace of a module that is freed, which the functions above use.
_package = _Package(__name__)
_package.__dict__.update(globals())
_package._module = sys.modules[__name__]
sys.modules[__name__] = _package
