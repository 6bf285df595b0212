"""
The counts behind the metrics, kept as plain numbers, each thread its own
(so an update takes no lock: one thread writes each number) and summed
when scraped. An update is one Python call: the thread's own numbers are
an attribute of a ``threading.local``, read inline, and a timing's count
is its histogram row's (a request's status is part of its key, so one
update records both). The hottest counts, a layer's messages, are a
:class:`Tally` each: one C call, no Python frame. docs/performance.rst
measures what that costs. ``collectors`` turns them into Prometheus metric
families at each scrape.
"""
from __future__ import absolute_import, unicode_literals

import itertools
import threading
from bisect import bisect_left


class _Shards(object):
    """Each thread's own numbers (made by ``new`` at its first update), kept after the thread ends."""

    def __init__(self, new):
        #: ``local.shard`` is this thread's numbers, once it has updated them.
        self.local = threading.local()
        self._new = new
        self._lock = threading.Lock()
        self._all = []

    def mine(self):
        """This thread's numbers, made if it has none yet."""
        try:
            return self.local.shard
        except AttributeError:
            shard = self.local.shard = self._new()
            with self._lock:
                self._all.append(shard)
            return shard

    def copies(self):
        """A copy of every thread's numbers, each copied whole at once (the GIL holds for a list's or dict's copy)."""
        with self._lock:
            shards = list(self._all)
        return [type(shard)(shard) for shard in shards]


class Counts(object):
    """Counters by key: ``add(key, amount)``; ``snapshot()`` sums them over the threads."""

    def __init__(self, *keys):
        self._shards = _Shards(dict)
        self._local = self._shards.local
        self._keys = keys

    def add(self, key, amount=1):
        try:
            shard = self._local.shard
        except AttributeError:
            shard = self._shards.mine()
        shard[key] = shard.get(key, 0) + amount

    def snapshot(self):
        totals = dict((key, 0) for key in self._keys)
        for shard in self._shards.copies():
            for key, count in shard.items():
                totals[key] = totals.get(key, 0) + count
        return totals


class Tally(object):
    """
    A count that goes up by one: ``next(tally.counter)`` from any thread,
    one call into C that holds the GIL throughout, so it takes no lock and
    loses no count (on a Python with a GIL, as every one this package
    supports); :attr:`value` reads it.
    """

    def __init__(self):
        self.counter = itertools.count()

    @property
    def value(self):
        # itertools.count shows how far it has counted only in its repr, "count(N)".
        return int(repr(self.counter)[len("count("):-1].rstrip("L"))


class Level(object):
    """A number that goes up and down (open sockets, busy threads): ``add(amount)``; ``value`` reads it."""

    def __init__(self):
        self._shards = _Shards(lambda: [0])
        self._local = self._shards.local

    def add(self, amount=1):
        try:
            self._local.shard[0] += amount
        except AttributeError:
            self._shards.mine()[0] += amount

    @property
    def value(self):
        return sum(shard[0] for shard in self._shards.copies())


class Timings(object):
    """
    Histograms by key: ``observe(key, seconds)`` counts ``seconds`` in the
    first bucket of ``bounds`` it is at most, or past the last one. A key's
    count of observations is its row's, so a key can carry what else is
    counted of the same event (a status, an outcome): :meth:`counts`. With
    ``weight``, for timings that observe one event in ``weight``, every
    observation reads as ``weight`` of them (its count and its seconds).
    """

    def __init__(self, bounds, weight=1):
        self.bounds = tuple(bounds)
        self.weight = weight
        self._shards = _Shards(dict)
        self._local = self._shards.local

    def observe(self, key, seconds):
        try:
            row = self._local.shard[key]
        except (AttributeError, KeyError):
            row = self.row(key)
        bounds = self.bounds
        # Most observations fall in the first bucket: one comparison instead of a search.
        row[0 if seconds <= bounds[0] else bisect_left(bounds, seconds)] += 1
        row[-1] += seconds

    def row(self, key):
        """This thread's row of ``key``, made if it has none yet (the layout :meth:`rows` gives)."""
        shard = self._shards.mine()
        try:
            return shard[key]
        except KeyError:
            row = shard[key] = [0] * (len(self.bounds) + 1) + [0.0]
            return row

    def rows(self, group=None):
        """
        {key: row} summed over the threads, a row being the count in each
        bucket (one past the last bound) and then the sum of seconds, each
        observation read as ``weight`` of them; with
        ``group``, keys that ``group(key)`` maps alike are summed under it.
        """
        totals = {}
        for shard in self._shards.copies():
            for key, row in shard.items():
                if group is not None:
                    key = group(key)
                total = totals.get(key)
                totals[key] = list(row) if total is None else [mine + theirs for mine, theirs in zip(total, row)]
        if self.weight != 1:
            for row in totals.values():
                row[:] = [value * self.weight for value in row]
        return totals

    def counts(self, group=None):
        """{key: observations}, grouped as :meth:`rows` groups them."""
        return dict((key, sum(row[:-1])) for key, row in self.rows(group).items())

    def snapshot(self, group=None):
        """{key: (cumulative counts per bound and +Inf, sum)}, as Prometheus buckets are, grouped as :meth:`rows`."""
        found = {}
        for key, row in self.rows(group).items():
            running, cumulative = 0, []
            for count in row[:-1]:
                running += count
                cumulative.append(running)
            found[key] = (cumulative, row[-1])
        return found
