"""
The Redis layer on servers that Redis Sentinel watches: asgi_redis 1.4's
``RedisSentinelChannelLayer``, following the masters' failovers.

    from asgiref.redis import RedisSentinelChannelLayer
"""
from __future__ import absolute_import, unicode_literals

import redis
import six

from .connection import RedisUnavailable, Server
from .layer import CAPACITY, EXPIRY, GROUP_EXPIRY, PREFIX, STATS_PREFIX, RedisChannelLayer

__all__ = ["RedisSentinelChannelLayer"]


class RedisSentinelChannelLayer(RedisChannelLayer):
    """
    The Redis layer on servers that Redis Sentinel watches, following their
    failovers. ``hosts``: the sentinels, as ``(host, port)`` pairs
    (default ``[("localhost", 26379)]``); ``services``: the names of the
    monitored masters to shard over (default: every master the sentinels
    know). ``sentinel_kwargs``: redis-py keywords for the connections to
    the sentinels themselves, such as ``{"password": ...}`` for sentinels
    with ``requirepass`` (by default they take ``connection_kwargs``'
    timeouts and nothing else; ``connection_kwargs`` are for the masters).
    Other keywords as RedisChannelLayer's. ``sentinel_refresh_interval``
    is accepted for asgi_redis's sake: the master is looked up on every new
    connection, which a failover forces.
    """

    def __init__(self, expiry=EXPIRY, hosts=None, prefix=PREFIX, group_expiry=GROUP_EXPIRY, capacity=CAPACITY,
                 channel_capacity=None, symmetric_encryption_keys=None, stats_prefix=STATS_PREFIX,
                 connection_kwargs=None, services=None, sentinel_refresh_interval=0, receive_timeout=None,
                 max_message_size=None, sentinel_kwargs=None):
        self.services = services
        if sentinel_kwargs is not None and not isinstance(sentinel_kwargs, dict):
            raise TypeError("sentinel_kwargs must be a dict of redis-py keywords, not %r" % (sentinel_kwargs,))
        self._given_sentinel_kwargs = dict(sentinel_kwargs or {})
        self.sentinel_refresh_interval = sentinel_refresh_interval
        super(RedisSentinelChannelLayer, self).__init__(
            expiry=expiry,
            hosts=hosts,
            prefix=prefix,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
            symmetric_encryption_keys=symmetric_encryption_keys,
            stats_prefix=stats_prefix,
            connection_kwargs=connection_kwargs,
            receive_timeout=receive_timeout,
            max_message_size=max_message_size,
        )

    def _connect(self, hosts, kwargs):
        from redis.sentinel import Sentinel
        self.hosts = _sentinel_addresses(hosts)
        #: The sentinel connections' keywords: ``connection_kwargs``' timeouts, then ``sentinel_kwargs``.
        self.sentinel_kwargs = dict((key, value) for key, value in kwargs.items() if key.startswith("socket_"))
        self.sentinel_kwargs.update(self._given_sentinel_kwargs)
        self._sentinel = Sentinel(self.hosts, sentinel_kwargs=self.sentinel_kwargs, **kwargs)
        if self.services:
            if isinstance(self.services, (six.text_type, bytes)) or not all(
                    isinstance(service, six.string_types) for service in self.services):
                raise ValueError("services must be a list of Sentinel service names, not %r" % (self.services,))
            self.services = list(self.services)
        else:
            self.services = self._discover_services()
        return [Server(self._sentinel.master_for(service).connection_pool) for service in self.services]

    def _discover_services(self):
        errors = []
        for sentinel in self._sentinel.sentinels:
            try:
                return sorted(sentinel.sentinel_masters())
            except (redis.ConnectionError, redis.TimeoutError) as error:
                errors.append(str(error))
        raise RedisUnavailable("no sentinel of %s answered with its masters: %s" % (self.hosts, "; ".join(errors)))

    def __str__(self):
        return "%s(services=%s)" % (type(self).__name__, self.services)


def _sentinel_addresses(hosts):
    if not hosts:
        return [("localhost", 26379)]
    if isinstance(hosts, (six.text_type, bytes)):
        raise ValueError("hosts must be a list of (host, port) pairs of sentinels, not one string %r" % (hosts,))
    addresses = []
    for entry in hosts:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise ValueError("sentinel %r is not a (host, port) pair" % (entry,))
        addresses.append((entry[0], int(entry[1])))
    return addresses
