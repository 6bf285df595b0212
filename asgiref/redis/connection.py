"""
The Redis servers of a layer: where they are (URLs or ``(host, port)``
pairs), and one lean connection to each per thread that runs the layer's
scripts in one round trip and turns failures into errors naming the server.
"""
from __future__ import absolute_import, unicode_literals

import hashlib
import os
import re
import socket
import ssl
import threading

import redis
import six
from redis.exceptions import ConnectionError, NoScriptError, RedisError, ResponseError, TimeoutError

from ..bridge.layer_calls import clock
from .urls import QUERY_PARAMETERS, SCHEMES_TEXT, TLS_PARAMETERS, URL_SCHEMES, check_tls_options, check_url, \
    connection_options, redacted, uses_tls

_FAILURES = (ConnectionError, TimeoutError, socket.error)
# redis-py's timeout, the socket's, and Python 3's own (socket.timeout's alias from 3.10).
_TIMEOUTS = (TimeoutError, socket.timeout, getattr(six.moves.builtins, "TimeoutError", socket.timeout))
# How redis-py words a failed connect: "Error 111 connecting to host:port. Connection refused."
_WRAPPED_REASON = re.compile(r"Error -?\d+ connecting to .*?\. (.+?)\.?\Z", re.DOTALL)


# Why a TLS connection was refused, and what to do about it.
_UNTRUSTED = ("its TLS certificate is not trusted (%s): give the CA that signed it as ssl_ca_certs, check the "
              "host name, or take a self-signed server with ssl_cert_reqs=none")
_CONNECTION_CLASSES = {"unix": redis.UnixDomainSocketConnection, "tls": redis.SSLConnection,
                       "tcp": redis.Connection}
_REDIS_PY = tuple(int(part) for part in re.findall(r"[0-9]+", redis.__version__)[:2])


class RedisUnavailable(ConnectionError):
    """A Redis server could not be reached, or stopped answering; the message names it."""


def server_urls(hosts, default=(("localhost", 6379),)):
    """
    ``hosts`` as a list of URLs: each entry a ``redis://``, ``rediss://`` or
    ``unix://`` URL or a ``(host, port)`` pair (asgi_redis's form, database 0).
    """
    if not hosts:
        hosts = default
    if isinstance(hosts, (six.text_type, bytes)):
        raise ValueError("hosts must be a list of Redis URLs or (host, port) pairs, not one string %r" % (hosts,))
    urls = []
    for entry in hosts:
        if isinstance(entry, bytes):
            entry = entry.decode("utf8")
        if isinstance(entry, six.text_type):
            if not entry.startswith(URL_SCHEMES):
                raise ValueError("Redis host %r is not a %s URL (nor a (host, port) pair)" % (entry, SCHEMES_TEXT))
            urls.append(check_url(entry))
        elif isinstance(entry, (list, tuple)) and len(entry) == 2:
            urls.append("redis://%s:%d/0" % (entry[0], int(entry[1])))
        else:
            raise ValueError("Redis host %r is neither a URL nor a (host, port) pair" % (entry,))
    return urls


def pool_options(url, kwargs):
    """
    What a connection pool for the server at ``url`` is made of: ``(kind,
    keywords)``, kind "unix", "tls" or "tcp" (the connection class), and the
    keywords ``kwargs`` (the layer's ``connection_kwargs``) with the URL's
    own over them (its address, credentials and query parameters, as in
    redis-py's ``from_url``). ValueError for TLS keywords on a server
    without TLS, and for what redis-py 3 would silently ignore.
    """
    options = dict(kwargs)
    options.update(connection_options(url))
    kind = "unix" if url.startswith("unix://") else "tls" if uses_tls(url) else "tcp"
    if "ssl" in options:
        # redis.Redis's switch, which connection pools do not take: the URL's scheme says it.
        raise ValueError("connection_kwargs ssl is not taken: give the server as a rediss:// URL, not %s"
                         % redacted(url))
    tls = [name for name in TLS_PARAMETERS if name in options]
    if tls and kind != "tls":
        raise ValueError("connection_kwargs %s needs a TLS server, a rediss:// URL, not %s" % (tls[0], redacted(url)))
    if kind == "tls" and options.get("ssl_certfile") and not options.get("ssl_keyfile") and _REDIS_PY < (4,):
        raise ValueError("%s: redis-py %s ignores ssl_certfile without ssl_keyfile; give the key file too"
                         % (redacted(url), redis.__version__))
    return kind, options


def check_tls_keywords(kwargs):
    """
    ValueError naming the keyword unless the TLS keywords of ``kwargs``
    (``connection_kwargs``) are as a URL's would be: files that exist, an
    ``ssl_cert_reqs`` redis-py knows, keywords that fit together.
    """
    checked = dict(kwargs)
    for name in TLS_PARAMETERS:
        value = kwargs.get(name)
        if isinstance(value, six.string_types):
            try:
                checked[name] = QUERY_PARAMETERS[name](value)
            except ValueError as error:
                raise ValueError("connection_kwargs %s is %s" % (name, error))
    check_tls_options(checked, "connection_kwargs")


def connection_pool(url, kwargs):
    """A redis-py connection pool for the server at ``url``: see :func:`pool_options`."""
    kind, options = pool_options(url, kwargs)
    return redis.ConnectionPool(connection_class=_CONNECTION_CLASSES[kind], **options)


def describe(pool):
    """A URL for the server of ``pool`` without its password, for error messages."""
    service = getattr(pool, "service_name", None)
    if service:
        return "the master of Sentinel service %r" % service
    kwargs = pool.connection_kwargs
    if kwargs.get("path"):
        return "unix://%s?db=%s" % (kwargs["path"], kwargs.get("db", 0))
    scheme = "rediss" if "SSL" in pool.connection_class.__name__ else "redis"
    return "%s://%s:%s/%s" % (scheme, kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0))


class Script(object):
    """A Lua script run by its SHA-1 (EVALSHA), loaded on a server the first time it is missing."""

    def __init__(self, source):
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf8")).hexdigest()


class Server(object):
    """
    One Redis server (or Sentinel service) of a layer. Each thread gets a
    connection of its own, so a call takes no lock and no pool; a thread
    that ends hands it to the next new thread, so threads that come and go
    use no more connections than run at once (redis-py 8's pool makes 100
    at most); a process that forked makes new ones.
    """

    def __init__(self, pool):
        self.pool = pool
        self.name = describe(pool)
        self._local = threading.local()
        # Connections whose threads ended: (pid, connection).
        self._spares = []
        self._client = None
        #: Whether BLPOP takes a fractional timeout here; None until asked.
        self.fractional_timeouts = None

    def client(self):
        """A redis-py client for this server (for callers that want the whole API)."""
        if self._client is None:
            self._client = redis.Redis(connection_pool=self.pool)
        return self._client

    def connection(self):
        held = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            held = self._local.held = _Held(self._spare() or own_connection(self.pool), self._spares)
        return held.connection

    def _spare(self):
        pid = os.getpid()
        while self._spares:
            try:
                spare_pid, connection = self._spares.pop()
            except IndexError:
                # Another new thread took the last one.
                return None
            if spare_pid == pid:
                return connection
        return None

    def run(self, script, keys=(), args=(), retry=True, packed_keys=None):
        """
        Run ``script``, one round trip. ``retry``: a failure is retried once
        on a new connection, for calls that cannot duplicate anything; otherwise
        a failure raises RedisUnavailable unless the connection was found
        closed before anything was sent. ``packed_keys``: ``keys`` already
        through :func:`pack_arguments`, to spare packing them again.
        """
        if packed_keys is None:
            command = ("EVALSHA", script.sha, len(keys)) + tuple(keys) + tuple(args)
        else:
            command = packed_script_call(script, keys, args, packed_keys)
        return self.execute(command, retry=retry, script=script)

    def execute(self, command, retry=True, script=None):
        """Send ``command`` (a tuple) and return its reply; see :meth:`run`."""
        connection = self.connection()
        try:
            if not retry and connection._sock is not None and self._closed_by_server(connection):
                # The server closed this connection while it was idle (it was
                # restarted): nothing was sent yet, so a new one is safe.
                connection.disconnect()
            return self._exchange(connection, command, script)
        except _FAILURES as error:
            connection.disconnect()
            # A server that did not answer in time would not answer a retry
            # sooner; a closed connection is worth one new try.
            if not retry or isinstance(error, (TimeoutError, socket.timeout)):
                raise self.unavailable(error)
        except BaseException:
            # Interrupted mid-call: a reply left unread would answer the next one.
            connection.disconnect()
            raise
        try:
            return self._exchange(connection, command, script)
        except _FAILURES as error:
            connection.disconnect()
            raise self.unavailable(error)
        except BaseException:
            connection.disconnect()
            raise

    def pipeline(self, commands, script):
        """
        Send ``commands`` at once and return their replies, one round trip;
        the last runs ``script`` (loaded if the server lacks it). Retried
        once on a new connection, like :meth:`execute`.
        """
        connection = self.connection()
        for attempt in (1, 2):
            try:
                if connection._sock is None:
                    connection.connect()
                connection.send_packed_command(connection.pack_commands(commands))
                replies = [connection.read_response() for _ in commands[:-1]]
                try:
                    replies.append(connection.read_response())
                except NoScriptError:
                    replies.append(self._exchange(connection, commands[-1], script))
                return replies
            except _FAILURES as error:
                connection.disconnect()
                if attempt == 2 or isinstance(error, (TimeoutError, socket.timeout)):
                    raise self.unavailable(error)
            except BaseException:
                # A reply left unread would answer the next command.
                connection.disconnect()
                raise

    def run_replicated(self, script, keys, args, timeout):
        """
        Run ``script`` and, if it returned anything, wait up to ``timeout``
        seconds for every replica connected to this server to have its
        writes: ``(reply, replicas, confirmed)``, replicas as ROLE counts
        them and how many WAIT found with the writes. All on one connection,
        as WAIT counts the writes of its own connection only; never retried
        (a failure raises RedisUnavailable), nor retried by the caller
        unless nothing can have run. An error reply to the script is raised;
        one to ROLE or WAIT, after the script ran, raises Unconfirmed.
        """
        connection = self.connection()
        try:
            if connection._sock is not None and self._closed_by_server(connection):
                connection.disconnect()
            if connection._sock is None:
                connection.connect()
            call = packed_script_call(script, keys, args)
            reply, role = _read_both(connection, call)
            if isinstance(reply, NoScriptError):
                # The script did not run: load it, and run it again.
                connection.send_command("SCRIPT", "LOAD", script.source)
                connection.read_response()
                reply, role = _read_both(connection, call)
            if isinstance(reply, ResponseError):
                raise reply
            if isinstance(role, ResponseError):
                raise Unconfirmed(reply, role)
            replicas = len(role[2]) if role[0] in (b"master", "master") else 0
            if not reply or not replicas:
                return reply, replicas, replicas
            connection.send_command("WAIT", replicas, max(1, int(timeout * 1000)))
            try:
                return reply, replicas, connection.read_response()
            except ResponseError as error:
                raise Unconfirmed(reply, error)
        except _FAILURES as error:
            connection.disconnect()
            raise self.unavailable(error)
        except ResponseError:
            raise
        except BaseException:
            # Interrupted mid-call: a reply left unread would answer the next one.
            connection.disconnect()
            raise

    @staticmethod
    def _closed_by_server(connection):
        # An idle connection has nothing to read unless the server closed it.
        try:
            return connection.can_read()
        except _FAILURES:
            return True

    def _exchange(self, connection, command, script):
        if connection._sock is None:
            # Connect first, as redis-py's pool does: a Sentinel connection
            # asks the sentinels for the master only in connect().
            connection.connect()
        _send(connection, command)
        try:
            return connection.read_response()
        except NoScriptError:
            # The server lost its scripts (restarted, or SCRIPT FLUSH): the
            # script did not run, so loading it and running it again is safe.
            connection.send_command("SCRIPT", "LOAD", script.source)
            connection.read_response()
            _send(connection, command)
            return connection.read_response()

    def ping(self, seconds, keys=()):
        """
        PING this server on a new connection, all within ``seconds`` (half
        of it at most to connect, then what is left to be greeted and to
        answer); RedisUnavailable saying why not (refused, no answer, a
        wrong password or db, a certificate not trusted, not Redis at all).
        With ``keys``, also ask whether they exist, so that a user whose
        ACL denies them is refused here. The layer's own connections are
        left alone.
        """
        started = clock()
        connection = own_connection(self.pool)
        # A connection of its own, so a short timeout here never shortens a
        # blocked receive's; connecting and redis-py's greeting (AUTH,
        # SELECT, ...) get half each, so together they stay within seconds.
        connection.socket_timeout = connection.socket_connect_timeout = seconds / 2.0
        try:
            connection.connect()
            connection._sock.settimeout(max(started + seconds - clock(), 0.001))
            connection.send_command("PING")
            reply = connection.read_response()
            if keys:
                connection.send_command("EXISTS", *keys)
                try:
                    connection.read_response()
                except ResponseError as error:
                    raise RedisUnavailable("%s refuses the layer's keys (%s): %s" % (
                        self.subject(), ", ".join(keys), error))
        except RedisUnavailable:
            raise
        except (RedisError, socket.error) as error:
            raise RedisUnavailable("cannot reach %s: %s" % (self.subject(), _reason(error, clock() - started)))
        finally:
            connection.disconnect()
        if reply not in (b"PONG", "PONG", True):
            raise RedisUnavailable("cannot reach %s: it answered PING with %r" % (self.subject(), reply))

    def subject(self):
        """This server in a sentence: "the Redis server at URL", or the Sentinel service's master."""
        return self.name if self.name.startswith("the ") else "the Redis server at %s" % self.name

    def unavailable(self, error):
        """A RedisUnavailable for ``error``, naming this server."""
        if isinstance(error, RedisUnavailable):
            return error
        return RedisUnavailable("Redis at %s is unavailable: %s" % (self.name, error))


class _Held(object):
    """One thread's connection; when the thread ends and its locals go, the connection joins ``spares``."""

    __slots__ = ("connection", "pid", "spares")

    def __init__(self, connection, spares):
        self.connection = connection
        self.pid = os.getpid()
        self.spares = spares

    def __del__(self):
        self.spares.append((self.pid, self.connection))


def _reason(error, waited):
    """Why ``error`` happened, in a few words: the system's reason where redis-py wrapped an OSError."""
    cause = getattr(error, "__context__", None) or getattr(error, "__cause__", None)
    if isinstance(cause, ssl.SSLError) and getattr(cause, "reason", None) == "CERTIFICATE_VERIFY_FAILED" or (
            "CERTIFICATE_VERIFY_FAILED" in str(error)):
        detail = getattr(cause, "verify_message", None)
        return _UNTRUSTED % ("certificate verify failed: %s" % detail if detail else "certificate verify failed")
    if type(error).__name__ == "MasterNotFoundError" and " - " in str(error):
        # redis-py 5 and later list each sentinel's client (long) and what it raised: keep the reason.
        return "no sentinel named its master (%s)" % str(error).rpartition(" - ")[2]
    # redis-py 5 wraps Python's TimeoutError in a ConnectionError.
    if isinstance(error, _TIMEOUTS) or isinstance(cause, _TIMEOUTS):
        return "no answer within %.1f s" % waited
    for candidate in (cause, error):
        strerror = getattr(candidate, "strerror", None)
        if strerror:
            return strerror
    # Python 2 keeps no cause: redis-py wrote the system's reason last.
    wrapped = _WRAPPED_REASON.match(str(error))
    return wrapped.group(1) if wrapped else (str(error) or type(error).__name__)


class Unconfirmed(ResponseError):
    """
    :meth:`Server.run_replicated`'s script ran, but ROLE or WAIT was
    refused (an ACL without them): ``reply`` is the script's, ``error`` the
    refusal.
    """

    def __init__(self, reply, error):
        ResponseError.__init__(self, str(error))
        self.reply = reply
        self.error = error


def own_connection(pool):
    """
    A new connection as ``pool`` makes them, that the pool does not count:
    the layer holds and closes it itself, and a pool that counted it
    (``pool.make_connection``) would refuse every connection past its
    ``max_connections``, 100 by default in redis-py 8, however many were
    closed since.
    """
    return pool.connection_class(**pool.connection_kwargs)


def _read_both(connection, call):
    # The script's reply (or its error) and ROLE's, read whole either way.
    connection.send_packed_command([call, packed_command((b"ROLE",))])
    replies = []
    for _ in range(2):
        try:
            replies.append(connection.read_response())
        except ResponseError as error:
            replies.append(error)
    return replies


def _send(connection, command):
    if isinstance(command, bytes):
        connection.send_packed_command([command])
    else:
        connection.send_command(*command)


def packed_command(arguments):
    """The command ``arguments`` (its name first) as Redis receives it."""
    return b"*%d\r\n" % len(arguments) + pack_arguments(arguments)


def packed_script_call(script, keys, args, packed_keys=None):
    """
    ``EVALSHA`` of ``script`` with ``keys`` and ``args``, as Redis receives
    it; ``packed_keys`` spares packing ``keys``.
    """
    if packed_keys is None:
        packed_keys = pack_arguments(keys)
    return (b"*%d\r\n" % (3 + len(keys) + len(args)) + pack_arguments((b"EVALSHA", script.sha, len(keys)))
            + packed_keys + pack_arguments(args))


def pack_arguments(arguments):
    """``arguments`` (text, bytes or numbers) as the bulk strings of a Redis command, without its header."""
    parts = []
    for argument in arguments:
        if isinstance(argument, six.text_type):
            argument = argument.encode("utf8")
        elif isinstance(argument, float):
            argument = repr(argument).encode("ascii")
        elif not isinstance(argument, bytes):
            argument = ("%d" % argument).encode("ascii")
        parts.append(b"$%d\r\n%s\r\n" % (len(argument), argument))
    return b"".join(parts)
