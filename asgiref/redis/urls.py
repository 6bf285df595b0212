"""
The URLs that name a Redis server of the Redis layer: the schemes it takes,
and the check a URL passes before anything connects. It imports no
redis-py, so the ``asgiref`` command can check ``--layer`` without it.
"""
from __future__ import unicode_literals

import os
import re

import six
from six.moves.urllib.parse import parse_qsl, unquote, urlsplit

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
    that is a whole number (in the path of ``redis://host:port/db``, or
    ``?db=`` as ``unix://`` takes it), and query parameters as
    :func:`connection_options` reads them.
    Otherwise ValueError naming the URL (its password hidden) and what is
    wrong, before redis-py would quietly take a bad db for db 0.
    """
    if not url.startswith(URL_SCHEMES + CLUSTER_URL_SCHEMES):
        raise ValueError("%s is not a %s URL" % (redacted(url), SCHEMES_TEXT))
    connection_options(url)
    return url


def _check_address(url, parts):
    """ValueError unless ``url`` (split into ``parts``) names a socket, or a port and db that are numbers."""
    databases = [value for name, value in parse_qsl(parts.query, keep_blank_values=True) if name == "db"]
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


def _boolean(value):
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("'%s', not one of true, false, yes, no, 1, 0" % value)


def _seconds(value):
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is None or not seconds > 0:
        raise ValueError("'%s', not a number of seconds above 0" % value)
    return seconds


def _whole(value):
    if not _DIGITS.match(value):
        raise ValueError("'%s', not a whole number" % value)
    return int(value)


def _text(value):
    return value


def _file(value):
    if not os.path.isfile(value):
        raise ValueError("'%s', which is not a file" % value)
    return value


#: What ``ssl_cert_reqs`` takes: whether the server must show a certificate the CA signed.
CERT_REQS = ("none", "optional", "required")


def _cert_reqs(value):
    if value.lower() not in CERT_REQS:
        raise ValueError("'%s', not one of %s" % (value, ", ".join(CERT_REQS)))
    return value.lower()


#: The query parameters a URL may carry, each read as the redis-py keyword of the same name.
QUERY_PARAMETERS = {
    "db": _whole,
    "client_name": _text,
    "health_check_interval": _whole,
    "retry_on_timeout": _boolean,
    "socket_connect_timeout": _seconds,
    "socket_keepalive": _boolean,
    "socket_timeout": _seconds,
    "ssl_ca_certs": _file,
    "ssl_cert_reqs": _cert_reqs,
    "ssl_certfile": _file,
    "ssl_check_hostname": _boolean,
    "ssl_keyfile": _file,
}

#: The parameters that only a TLS (``rediss``) connection takes.
TLS_PARAMETERS = tuple(sorted(name for name in QUERY_PARAMETERS if name.startswith("ssl_")))


def uses_tls(url):
    """Whether ``url`` names a server over TLS: its scheme is ``rediss``, or ``rediss+`` another word."""
    return url.partition("://")[0].partition("+")[0] == "rediss"


def connection_options(url):
    """
    The redis-py connection keywords that ``url`` gives: ``host`` and
    ``port`` (or a unix socket's ``path``), ``db`` (0 unless given),
    ``username`` and ``password`` (percent-decoded), and the query
    parameters of :data:`QUERY_PARAMETERS` read as their types (files
    checked to exist). For any scheme (``redis+cluster://`` too: the first
    word of the scheme says TLS). ValueError naming the URL (password
    hidden) and the parameter for an unknown one, one given twice, a bad
    value, or a TLS parameter on a URL without TLS.
    """
    parts = urlsplit(url)
    _check_address(url, parts)
    options = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        read = QUERY_PARAMETERS.get(name)
        if read is None:
            raise ValueError("%s has an unknown query parameter '%s' (the layer takes %s)" % (
                redacted(url), name, ", ".join(sorted(QUERY_PARAMETERS))))
        if name in options:
            raise ValueError("%s gives %s twice" % (redacted(url), name))
        try:
            options[name] = read(value)
        except ValueError as error:
            raise ValueError("%s: %s is %s" % (redacted(url), name, error))
    tls = [name for name in TLS_PARAMETERS if name in options]
    if tls and not uses_tls(url):
        raise ValueError("%s: %s needs a TLS server, a rediss:// URL" % (redacted(url), tls[0]))
    check_tls_options(options, redacted(url))
    if parts.username:
        options["username"] = _decoded(parts.username)
    if parts.password:
        options["password"] = _decoded(parts.password)
    options.setdefault("db", 0)
    if parts.scheme == "unix":
        options["path"] = _decoded(parts.path)
        return options
    if parts.hostname:
        options["host"] = _decoded(parts.hostname)
    options["port"] = parts.port or 6379
    database = _decoded(parts.path)[1:]
    if database and "db" not in dict(parse_qsl(parts.query)):
        # A db in the query wins over the path's, as in redis-py.
        options["db"] = int(database)
    return options


def check_tls_options(options, where):
    """
    ValueError, naming ``where`` and the keyword, unless the TLS keywords in
    ``options`` (a URL's, or ``connection_kwargs``) fit together: a key file
    needs its certificate file, and ``ssl_cert_reqs`` of none (no check of
    the server) cannot check its host name either.
    """
    if options.get("ssl_keyfile") and not options.get("ssl_certfile"):
        raise ValueError("%s: ssl_keyfile needs ssl_certfile, the client certificate it is the key of" % where)
    if options.get("ssl_cert_reqs") == "none" and options.get("ssl_check_hostname"):
        raise ValueError("%s: ssl_check_hostname cannot check a server that ssl_cert_reqs=none does not check"
                         % where)


def _decoded(text):
    """``text`` with its %-escapes decoded, as UTF-8."""
    if six.PY2:
        return unquote(text.encode("utf8")).decode("utf8")
    return unquote(text)
