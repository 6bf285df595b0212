"""The wake-up call the layer and the reply dispatcher sleep on."""
from __future__ import absolute_import

import threading
import time

from asgiref.wakeup import Wakeup
from tests.threads import in_thread


def waiting(wakeup, outer, timeout):
    """wait() as its callers make it: with the outer lock held; also whether it is held after."""
    with outer:
        rung = wakeup.wait(outer, timeout)
        return rung, not outer.acquire(False)


def test_a_ring_wakes_the_sleeper():
    wakeup, outer = Wakeup(), threading.Lock()
    thread, result = in_thread(waiting, wakeup, outer, 10)
    time.sleep(0.05)
    started = time.time()
    with outer:
        wakeup.ring()
    thread.join(5)
    assert result == [(True, True)]
    assert time.time() - started < 1


def test_the_outer_lock_is_free_while_asleep():
    wakeup, outer = Wakeup(), threading.Lock()
    thread, result = in_thread(waiting, wakeup, outer, 10)
    time.sleep(0.05)
    started = time.time()
    outer.acquire()
    assert time.time() - started < 1
    wakeup.ring()
    outer.release()
    thread.join(5)
    assert result == [(True, True)]


def test_unrung_it_times_out_holding_the_outer_lock():
    wakeup, outer = Wakeup(), threading.Lock()
    started = time.time()
    assert waiting(wakeup, outer, 0.05) == (False, True)
    assert 0.04 < time.time() - started < 2


def test_a_ring_before_the_wait_makes_it_return_at_once():
    wakeup, outer = Wakeup(), threading.Lock()
    wakeup.ring()
    started = time.time()
    assert waiting(wakeup, outer, 10) == (True, True)
    assert time.time() - started < 1


def test_a_ring_after_the_timeout_counts_once():
    wakeup, outer = Wakeup(), threading.Lock()

    def ring_late():
        # Holding the outer lock past the sleeper's timeout: it cannot
        # return until after this ring, which came too late to wake it.
        with outer:
            time.sleep(0.2)
            wakeup.ring()

    outer.acquire()
    ringer, _ = in_thread(ring_late)
    rung = wakeup.wait(outer, 0.02)
    outer.release()
    ringer.join(5)
    assert rung
    # The late ring was taken back: the next wait sleeps until its timeout,
    # and the one after can be rung again.
    assert waiting(wakeup, outer, 0.05) == (False, True)
    wakeup.ring()
    assert waiting(wakeup, outer, 10) == (True, True)


def test_a_timeout_longer_than_the_longest_thread_wait_still_sleeps_until_rung():
    # Beyond threading.TIMEOUT_MAX a lock's timed acquire raises OverflowError.
    wakeup, outer = Wakeup(), threading.Lock()
    thread, result = in_thread(waiting, wakeup, outer, 1e300)
    time.sleep(0.05)
    with outer:
        wakeup.ring()
    thread.join(5)
    assert result == [(True, True)]
