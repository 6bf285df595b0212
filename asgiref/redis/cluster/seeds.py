"""
A cluster's seed nodes, as the layer's ``hosts`` name them: checked, and
turned into the addresses and connection keywords redis-py's cluster
clients take.
"""
from __future__ import absolute_import, unicode_literals

import six

from ..urls import CLUSTER_URL_SCHEMES, connection_options, redacted, uses_tls


def seed_nodes(hosts):
    """
    ``(urls, [(host, port)], connection keywords)`` from ``hosts``: URLs
    (``redis+cluster://``, ``rediss+cluster://``, ``redis://``,
    ``rediss://``; db 0, the only one a cluster has) or ``(host, port)``
    pairs. The keywords (TLS, user, password) are the first URL's.
    """
    if not hosts:
        hosts = [("localhost", 6379)]
    if isinstance(hosts, (six.text_type, bytes)):
        raise ValueError("hosts must be a list of seed node URLs or (host, port) pairs, not one string %r" % (hosts,))
    urls, seeds, kwargs = [], [], None
    for entry in hosts:
        if isinstance(entry, bytes):
            entry = entry.decode("utf8")
        if isinstance(entry, (list, tuple)) and len(entry) == 2:
            entry = "redis+cluster://%s:%d/0" % (entry[0], int(entry[1]))
        if not isinstance(entry, six.text_type) or not entry.startswith(SEED_URL_SCHEMES):
            raise ValueError("Redis Cluster seed %r is not a %s URL nor a (host, port) pair"
                             % (entry, ", ".join(SEED_URL_SCHEMES)))
        parsed = connection_options(entry)
        if parsed.pop("db", 0) != 0:
            raise ValueError("Redis Cluster has only db 0, not the db in %s" % redacted(entry))
        if parsed.pop("path", None):
            raise ValueError("Redis Cluster nodes are reached over TCP, not a Unix socket: %s" % redacted(entry))
        seeds.append((parsed.pop("host", "localhost"), int(parsed.pop("port", 6379))))
        if uses_tls(entry):
            parsed["ssl"] = True
        if kwargs is None:
            kwargs = parsed
        urls.append(entry)
    return urls, seeds, kwargs


#: The seed node URLs the cluster layer takes.
SEED_URL_SCHEMES = CLUSTER_URL_SCHEMES + ("redis://", "rediss://")
