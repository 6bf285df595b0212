"""The wake-up call a blocking receive of the in-memory layer sleeps on."""
from __future__ import absolute_import

import time

from asgiref.wakeup import Wakeup
from tests.threads import in_thread


def test_a_ring_from_another_thread_wakes_the_sleeper():
    # No lock is held around either: the layer rings after releasing its own.
    wakeup = Wakeup()
    thread, result = in_thread(wakeup.wait, 10)
    time.sleep(0.05)
    assert thread.is_alive()
    started = time.time()
    wakeup.ring()
    thread.join(5)
    assert result == [True]
    assert time.time() - started < 1


def test_unrung_it_times_out():
    wakeup = Wakeup()
    started = time.time()
    assert wakeup.wait(0.05) is False
    assert 0.04 < time.time() - started < 2


def test_a_ring_before_the_wait_makes_it_return_at_once():
    wakeup = Wakeup()
    wakeup.ring()
    started = time.time()
    assert wakeup.wait(10) is True
    assert time.time() - started < 1


def test_a_ring_after_a_timed_out_wait_is_kept_for_the_next_wait():
    # A send may hand a message over just as its receiver's wait times out:
    # the ring that follows it must not be lost.
    wakeup = Wakeup()
    assert wakeup.wait(0.02) is False
    wakeup.ring()
    started = time.time()
    assert wakeup.wait(10) is True
    assert time.time() - started < 1


def test_once_rung_every_wait_returns_at_once():
    wakeup = Wakeup()
    wakeup.ring()
    assert wakeup.wait(10) is True
    started = time.time()
    assert wakeup.wait(10) is True
    assert time.time() - started < 1


def test_a_negative_timeout_looks_once():
    wakeup = Wakeup()
    assert wakeup.wait(-1) is False
    wakeup.ring()
    assert wakeup.wait(-1) is True


def test_a_timeout_longer_than_the_longest_thread_wait_still_sleeps_until_rung():
    # Beyond threading.TIMEOUT_MAX a lock's timed acquire raises OverflowError.
    wakeup = Wakeup()
    thread, result = in_thread(wakeup.wait, 1e300)
    time.sleep(0.05)
    wakeup.ring()
    thread.join(5)
    assert result == [True]
