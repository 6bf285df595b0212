"""
``asgiref stats --layer URL [--watch SECONDS]``: the channels with messages
waiting, how many and the capacity of each, and the groups with their
sizes, busiest first.

A Redis layer (``redis://...``) is read from its servers: a SCAN over the
layer's ``prefix`` (in pages of :data:`SCAN_COUNT` keys, so the server is
never held up for long), then one pipelined TYPE per key found and LLEN or
ZCOUNT per channel or group. SCAN walks every key of the database, and
each message waiting is a key of its own, so one look costs a round trip
per page plus work in proportion to the keys: fine every few seconds, not
many times a second on a large database. The in-memory layer lives in one
``asgiref serve`` process: its ``--metrics`` port answers ``/stats``, which
``--layer http://HOST:PORT`` reads.
"""
from __future__ import print_function, unicode_literals

import argparse
import json
import sys
import time

from six.moves.urllib.error import HTTPError, URLError
from six.moves.urllib.request import urlopen

from ..bridge.layer_calls import one_line

#: ``--layer`` values read from a serve process's metrics port.
HTTP_SCHEMES = ("http://", "https://")
#: Keys asked for per SCAN call.
SCAN_COUNT = 1000
#: Seconds a look at a metrics port may take.
HTTP_TIMEOUT = 10


class StatsFailed(Exception):
    """The layer could not be read: one line on stderr, exit code 1."""


def add_command(commands, option_type, command):
    """Add ``stats`` to the command's subparsers ``commands``; ``command(arguments)`` runs it."""
    help_text = ("print the channels with messages waiting (how many, and each one's capacity) and the groups "
                 "with their sizes, busiest first")
    sub = commands.add_parser("stats", help=help_text, description=help_text + ".")
    sub.set_defaults(command=command)
    sub.add_argument("--layer", required=True, metavar="URL",
                     help="the Redis layer at redis://..., rediss://... or unix://... (read from its servers "
                          "with SCAN), or a serve process's in-memory layer through its --metrics port, "
                          "http://HOST:PORT")
    sub.add_argument("--layer-option", action="append", default=[], type=option_type, metavar="KEY=VALUE",
                     help="keyword argument for the Redis layer, as the processes that use it are given "
                          "(prefix=..., capacity=..., channel_capacity=...); repeatable")
    sub.add_argument("--watch", type=_interval, metavar="SECONDS",
                     help="print again every SECONDS until interrupted")
    # Only warnings and errors of the layer's own: the table is the output.
    sub.set_defaults(log_level="WARNING")


def _interval(text):
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if not 0 < seconds < 86400:
        raise argparse.ArgumentTypeError("must be above 0 and below a day, not %s" % text)
    return seconds


def run(arguments, reader, out=None, sleep=time.sleep):
    """Print what ``reader()`` finds, once or every ``--watch`` seconds; return the exit code."""
    out = out or sys.stdout
    while True:
        try:
            found = reader()
        except StatsFailed as error:
            print("asgiref: error: %s" % error, file=sys.stderr)
            if arguments.watch is None:
                return 1
        else:
            out.write(render(found, arguments.layer))
            out.flush()
        if arguments.watch is None:
            return 0
        try:
            sleep(arguments.watch)
        except KeyboardInterrupt:
            return 0


def render(found, source):
    """``found`` (``{"channels": [[name, waiting, capacity]], "groups": [[name, size]]}``) as the table printed."""
    channels = sorted(found["channels"], key=lambda row: (-row[1], row[0]))
    groups = sorted(found["groups"], key=lambda row: (-row[1], row[0]))
    lines = ["%s at %s" % (source, time.strftime("%Y-%m-%d %H:%M:%S %Z"))]
    width = max([len("CHANNEL")] + [len(row[0]) for row in channels])
    if channels:
        lines.append("%-*s %9s %9s" % (width, "CHANNEL", "WAITING", "CAPACITY"))
        lines.extend("%-*s %9d %9d" % (width, name, waiting, capacity) for name, waiting, capacity in channels)
    else:
        lines.append("no messages waiting")
    width = max([len("GROUP")] + [len(row[0]) for row in groups])
    if groups:
        lines.append("%-*s %9s" % (width, "GROUP", "MEMBERS"))
        lines.extend("%-*s %9d" % (width, name, size) for name, size in groups)
    else:
        lines.append("no groups")
    return "\n".join(lines) + "\n\n"


def endpoint_reader(url):
    """A reader of the ``/stats`` that a serve process's ``--metrics`` port at ``url`` answers."""
    target = url.rstrip("/") + "/stats"

    def read():
        try:
            response = urlopen(target, timeout=HTTP_TIMEOUT)
            try:
                return json.loads(response.read().decode("utf-8"))
            finally:
                response.close()
        except HTTPError as error:
            raise StatsFailed("%s answered %d: %s" % (target, error.code, error.read().decode("utf-8", "replace")
                                                      .strip()))
        except (URLError, IOError, ValueError) as error:
            raise StatsFailed("cannot read %s: %s" % (target, one_line(getattr(error, "reason", error))))
    return read


def layer_reader(layer):
    """A reader of ``layer`` from its servers (a Redis layer), or None for a layer it cannot read."""
    if not (callable(getattr(layer, "connection", None)) and hasattr(layer, "prefix") and
            hasattr(layer, "ring_size")):
        return None

    def read():
        try:
            return redis_overview(layer)
        except Exception as error:
            raise StatsFailed("cannot read %s: %s" % (layer, one_line(error)))
    return read


def redis_overview(layer):
    """What waits in a Redis ``layer``, over all its servers, in :func:`render`'s shape."""
    from ..redis import wire
    prefix = layer.prefix
    group_prefix = wire.group_key(prefix, "")
    pattern = wire.glob_escape(prefix) + "*"
    waiting, groups = {}, {}
    for index in range(layer.ring_size):
        client = layer.connection(index)
        now = time.time()
        cursor = 0
        while True:
            cursor, keys = client.scan(cursor, match=pattern, count=SCAN_COUNT)
            _count_page(client, keys, prefix, group_prefix, now - layer.group_expiry, waiting, groups)
            if int(cursor) == 0:
                break
    return {"channels": [[name, count, layer.get_capacity(name)] for name, count in waiting.items() if count],
            "groups": [[name, size] for name, size in groups.items() if size]}


def _count_page(client, keys, prefix, group_prefix, lapsed_before, waiting, groups):
    """Add the channel lists and group sets among ``keys`` (one SCAN page) to ``waiting`` and ``groups``."""
    if not keys:
        return
    names = [key.decode("utf-8", "replace") for key in keys]
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.type(key)
    kinds = [kind.decode("ascii") if isinstance(kind, bytes) else kind for kind in pipeline.execute()]
    pipeline = client.pipeline(transaction=False)
    asked = []
    for name, kind in zip(names, kinds):
        if kind == "list":
            pipeline.llen(name)
            asked.append((waiting, name[len(prefix):]))
        elif kind == "zset" and name.startswith(group_prefix):
            # Members whose group_add is older than group_expiry have lapsed.
            pipeline.zcount(name, "(%r" % lapsed_before, "+inf")
            asked.append((groups, name[len(group_prefix):]))
    for (table, name), count in zip(asked, pipeline.execute() if asked else []):
        table[name] = table.get(name, 0) + int(count)
