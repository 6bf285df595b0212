"""
The counts behind the metrics, kept as plain numbers, each thread its own
(so an update takes no lock: one thread writes each number) and summed
when scraped: a request or a layer call costs a bisect and a few
additions, a fraction of what a prometheus_client metric object costs per
update (docs/performance.rst measures it). ``collectors`` turns them into
Prometheus metric families at each scrape.
"""
from __future__ import absolute_import, unicode_literals

import threading
from bisect import bisect_left


class _PerThread(object):
    """A dict for each thread that updates a tally, kept after the thread ends, so no count is lost."""

    def __init__(self):
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shards = []

    def mine(self):
        """This thread's dict."""
        try:
            return self._local.shard
        except AttributeError:
            shard = self._local.shard = {}
            with self._lock:
                self._shards.append(shard)
            return shard

    def all(self):
        """A copy of every thread's dict (each copied whole, at once: the GIL holds for a dict's copy)."""
        with self._lock:
            shards = list(self._shards)
        return [dict(shard) for shard in shards]


class Counts(object):
    """Counters by key: ``add(key, amount)``; ``snapshot()`` sums them over the threads."""

    def __init__(self, *keys):
        self._shards = _PerThread()
        self._mine = self._shards.mine
        self._keys = keys

    def add(self, key, amount=1):
        shard = self._mine()
        shard[key] = shard.get(key, 0) + amount

    def snapshot(self):
        totals = dict((key, 0) for key in self._keys)
        for shard in self._shards.all():
            for key, count in shard.items():
                totals[key] = totals.get(key, 0) + count
        return totals


class Level(object):
    """A number that goes up and down (requests in flight, open sockets): ``add(amount)``; ``value`` reads it."""

    def __init__(self):
        self._counts = Counts(None)
        self._mine = self._counts._mine

    def add(self, amount=1):
        shard = self._mine()
        shard[None] = shard.get(None, 0) + amount

    @property
    def value(self):
        return self._counts.snapshot()[None]


class Timings(object):
    """
    Histograms by key (a call name; None for one alone): ``observe(key,
    seconds)`` counts ``seconds`` in the first bucket of ``bounds`` it is
    at most, or past the last one.
    """

    def __init__(self, bounds):
        self.bounds = tuple(bounds)
        self._shards = _PerThread()
        self._mine = self._shards.mine

    def observe(self, key, seconds):
        shard = self._mine()
        row = shard.get(key)
        if row is None:
            # A count per bucket, one past the last bound, then the sum of seconds.
            row = shard[key] = [0] * (len(self.bounds) + 1) + [0.0]
        row[bisect_left(self.bounds, seconds)] += 1
        row[-1] += seconds

    def snapshot(self):
        """{key: (cumulative counts per bound and +Inf, sum)}, as Prometheus buckets are."""
        totals = {}
        for shard in self._shards.all():
            for key, row in shard.items():
                row = list(row)
                total = totals.get(key)
                totals[key] = row if total is None else [mine + theirs for mine, theirs in zip(total, row)]
        found = {}
        for key, row in totals.items():
            running, cumulative = 0, []
            for count in row[:-1]:
                running += count
                cumulative.append(running)
            found[key] = (cumulative, row[-1])
        return found
