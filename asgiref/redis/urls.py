"""
The URLs that name a Redis server of the Redis layer: the schemes it takes,
and the check a URL passes before anything connects. It imports no
redis-py, so the ``asgiref`` command can check ``--layer`` without it.
"""
from __future__ import unicode_literals

import re

from six.moves.urllib.parse import parse_qs, unquote, urlsplit

#: The URL schemes the Redis layer takes (a TCP server, one over TLS, a Unix socket).
URL_SCHEMES = ("redis://", "rediss://", "unix://")

#: How the accepted schemes read in a message.
SCHEMES_TEXT = "%s or %s" % (", ".join(URL_SCHEMES[:-1]), URL_SCHEMES[-1])

#: The URL schemes of a Redis Cluster's seed node, for the cluster layer (plain, TLS).
CLUSTER_URL_SCHEMES = ("redis+cluster://", "rediss+cluster://")

_DIGITS = re.compile(r"[0-9]+\Z")


def check_url(url):
    """
    ``url`` if it names a Redis server the layer can connect to: a known
    scheme (a cluster seed node's too), a port from 1 to 65535 and a db
    that is a whole number (in the path of ``redis://host:port/db``, or ``?db=`` as ``unix://`` takes it).
    Otherwise ValueError naming the URL (its password hidden) and what is
    wrong, before redis-py would quietly take a bad db for db 0.
    """
    if not url.startswith(URL_SCHEMES + CLUSTER_URL_SCHEMES):
        raise ValueError("%s is not a %s URL" % (redacted(url), SCHEMES_TEXT))
    parts = urlsplit(url)
    databases = parse_qs(parts.query, keep_blank_values=True).get("db", [])
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("%s names no socket: write unix:///path/to/redis.sock?db=0" % redacted(url))
    else:
        _check_port(url, parts.netloc.rpartition("@")[2])
        database = unquote(parts.path)[1:]
        if database:
            databases.append(database)
    for database in databases:
        if not _DIGITS.match(database):
            raise ValueError("the db in %s is '%s', not a number" % (redacted(url), database))
    return url


def _check_port(url, host_and_port):
    if host_and_port.startswith("["):
        # An IPv6 address: [::1]:6379.
        after = host_and_port.partition("]")[2]
        port = after[1:] if after.startswith(":") else (None if not after else after)
    else:
        port = host_and_port.partition(":")[2] if ":" in host_and_port else None
    if port is not None and not (_DIGITS.match(port) and 1 <= int(port) <= 65535):
        raise ValueError("the port in %s is '%s', not a number from 1 to 65535" % (redacted(url), port))


def redacted(url):
    """``url`` with its password, if any, replaced by ``***``: fit for a log or an error message."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.partition(":")[0]
    return "%s://%s:***@%s%s%s" % (scheme, user, host, slash, path)
