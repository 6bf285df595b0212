"""
The tallies: numbers each thread updates on its own and a scrape sums,
none lost when a thread ends.
"""
from __future__ import absolute_import, unicode_literals

import threading

from asgiref.metrics.tallies import Counts, Level, Tally, Timings


def in_threads(function, threads=4):
    started = [threading.Thread(target=function) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


def test_counts_of_every_thread_are_summed_after_the_threads_end():
    counts = Counts("sent", "full")

    def count():
        for _ in range(1000):
            counts.add("sent")
        counts.add("full", 2)
    in_threads(count)
    counts.add("sent")
    assert counts.snapshot() == {"sent": 4001, "full": 8}


def test_counts_name_their_keys_at_zero_before_any_update():
    assert Counts("sent", "full").snapshot() == {"sent": 0, "full": 0}


def test_a_tally_counts_every_thread_s_additions():
    tally = Tally()
    assert tally.value == 0

    def count():
        for _ in range(10000):
            next(tally.counter)
    in_threads(count)
    assert tally.value == 40000


def test_a_level_goes_up_in_one_thread_and_down_in_another():
    level = Level()
    level.add(3)
    in_threads(lambda: level.add(-1), threads=2)
    assert level.value == 1


def test_a_timing_falls_in_the_first_bucket_whose_bound_it_is_at_most():
    timings = Timings((0.1, 1))
    for seconds in (0.05, 0.1, 0.5, 1, 7):
        timings.observe("call", seconds)
    cumulative, total = timings.snapshot()["call"]
    assert cumulative == [2, 4, 5]
    assert abs(total - 8.65) < 1e-9


def test_a_key_counts_its_observations_and_keys_can_be_grouped():
    timings = Timings((1,))

    def observe():
        timings.observe(("send", "done"), 0.5)
        timings.observe(("send", "full"), 2)
        timings.observe(("receive", "done"), 0.5)
    in_threads(observe, threads=3)
    assert timings.counts() == {("send", "done"): 3, ("send", "full"): 3, ("receive", "done"): 3}
    assert timings.counts(lambda key: key[0]) == {"send": 6, "receive": 3}
    assert timings.snapshot(lambda key: key[0])["send"] == ([3, 6], 7.5)


def test_a_weighted_timing_reads_as_that_many_observations_of_its_seconds():
    timings = Timings((1,), weight=8)
    timings.observe("send", 0.5)
    timings.observe("send", 2)
    assert timings.counts() == {"send": 16}
    assert timings.snapshot()["send"] == ([8, 16], 20.0)
