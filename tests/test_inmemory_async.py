"""The in-memory layer's receive_async: woken like blocking receive, safe to cancel, on any loop."""
from __future__ import absolute_import, unicode_literals

import gc
import threading
import time
import weakref

import pytest

from asgiref.inmemory import ChannelLayer
from tests.threads import in_thread, numbered_messages_in_thread

asyncio = pytest.importorskip("asyncio")
conformance_async = pytest.importorskip("asgiref.conformance.async_helpers")
run = conformance_async.run
inmemory_async = pytest.importorskip("asgiref.inmemory_async")


def settle(loop, seconds=0.1):
    """Let the loop run its tasks up to their first wait."""
    loop.run_until_complete(asyncio.sleep(seconds))


@pytest.fixture(params=["asyncio", "uvloop"])
def loop(request):
    """A new event loop: the standard library's, and uvloop's (as uvicorn runs) where it is installed."""
    if request.param == "uvloop":
        loop = pytest.importorskip("uvloop").new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_async_is_listed_and_receive_async_is_a_coroutine_function():
    layer = ChannelLayer()
    assert "async" in layer.extensions
    assert asyncio.iscoroutinefunction(layer.receive_async)


def test_it_takes_the_message_that_waited_longest_across_channels():
    layer = ChannelLayer()
    layer.send("busy", {"n": 1})
    layer.send("process!a", {"n": 2})
    layer.send("busy", {"n": 3})
    received = [run(layer.receive_async(["busy", "process!"])) for _ in range(3)]
    assert received == [("busy", {"n": 1}), ("process!a", {"n": 2}), ("busy", {"n": 3})]


def test_a_send_from_another_thread_wakes_it():
    layer = ChannelLayer(receive_timeout=30)
    received, early = conformance_async.receive_during(
        layer, ["idle", "reply!"], lambda: layer.send("reply!7", {"status": 200}))
    assert not early
    assert received == ("reply!7", {"status": 200})


def test_nothing_sent_gives_a_pair_of_none_after_receive_timeout():
    layer = ChannelLayer(receive_timeout=0.2)
    started = time.time()
    assert run(layer.receive_async(["nothing"])) == (None, None)
    assert time.time() - started >= 0.2


def test_bad_channel_names_are_refused_as_by_receive():
    layer = ChannelLayer()
    with pytest.raises(TypeError) as raised:
        run(layer.receive_async(["reply!7"]))
    assert "receive on its process-specific prefix" in str(raised.value)
    with pytest.raises(TypeError):
        run(layer.receive_async([]))


def test_each_send_wakes_one_waiter_and_each_message_is_taken_once(loop):
    layer = ChannelLayer(receive_timeout=30)
    tasks = [loop.create_task(layer.receive_async(["work"])) for _ in range(3)]
    threads = [in_thread(layer.receive, ["work"], True) for _ in range(2)]
    settle(loop)
    sender, _ = in_thread(lambda: [layer.send("work", {"n": n}) for n in range(5)])
    loop.run_until_complete(asyncio.wait(tasks, timeout=10))
    for thread, _ in threads:
        thread.join(10)
    received = [task.result() for task in tasks] + [result[0] for _, result in threads]
    assert sorted(message["n"] for _, message in received) == [0, 1, 2, 3, 4]


def test_a_receive_cancelled_after_its_wake_up_passes_the_message_to_another_waiter(loop):
    layer = ChannelLayer(receive_timeout=30)
    first = loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    second = loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    # The send wakes the first waiter; its wake-up is on its way when it is cancelled.
    layer.send("c", {"n": 1})
    first.cancel()
    loop.run_until_complete(asyncio.wait([first, second], timeout=10))
    assert first.cancelled()
    assert second.result() == ("c", {"n": 1})


def test_a_woken_receive_has_its_message_without_taking_the_layer_lock(loop):
    # The send hands the message over under the lock and rings after it:
    # the loop then finishes the receive while another thread holds the lock.
    layer = ChannelLayer(receive_timeout=30)
    task = loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    layer.send("c", {"n": 1})
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with layer._lock:
            held.set()
            release.wait(3)
    holder, _ = in_thread(hold_the_lock)
    held.wait(10)
    started = time.time()
    loop.run_until_complete(asyncio.wait([task], timeout=10))
    took = time.time() - started
    release.set()
    holder.join(10)
    assert task.result() == ("c", {"n": 1})
    assert took < 2


def assert_a_blocked_receive_gets_the_next_message(layer):
    thread, result = in_thread(layer.receive, ["c"], True)
    time.sleep(0.05)
    layer.send("c", {"n": 1})
    thread.join(10)
    assert result == [("c", {"n": 1})]


def test_a_cancelled_receive_stops_waiting(loop):
    layer = ChannelLayer(receive_timeout=30)
    cancelled = loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    cancelled.cancel()
    loop.run_until_complete(asyncio.wait([cancelled], timeout=10))
    assert_a_blocked_receive_gets_the_next_message(layer)


def test_a_waiter_left_on_a_closed_loop_does_not_swallow_a_message(loop):
    layer = ChannelLayer(receive_timeout=30)
    loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    loop.close()
    assert_a_blocked_receive_gets_the_next_message(layer)


def test_it_waits_on_a_loop_running_in_another_thread(loop):
    # As under a server that runs its own loop (uvicorn), fed from worker threads.
    layer = ChannelLayer(receive_timeout=30)
    runner = threading.Thread(target=loop.run_forever)
    runner.start()
    try:
        pending = [asyncio.run_coroutine_threadsafe(layer.receive_async(["reply?abc"]), loop) for _ in range(3)]
        time.sleep(0.1)
        for n in range(3):
            layer.send("reply?abc", {"n": n})
        assert sorted(future.result(10)[1]["n"] for future in pending) == [0, 1, 2]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(10)


def test_a_single_reader_gets_everything_in_order_from_a_thread():
    layer = ChannelLayer(capacity=10, receive_timeout=30)
    producer = numbered_messages_in_thread(layer, "reply?abc", 500)
    received = [run(layer.receive_async(["reply?abc"]))[1]["n"] for _ in range(500)]
    producer.join(10)
    assert received == list(range(500))


def test_waits_with_different_timeouts_on_one_loop_each_end_at_their_own(loop):
    slow, quick = ChannelLayer(receive_timeout=0.6), ChannelLayer(receive_timeout=0.1)
    started, ended = loop.time(), {}
    tasks = [loop.create_task(slow.receive_async(["nothing"])), loop.create_task(quick.receive_async(["nothing"]))]
    for name, task in zip(("slow", "quick"), tasks):
        task.add_done_callback(lambda task, name=name: ended.setdefault(name, loop.time() - started))
    loop.run_until_complete(asyncio.wait(tasks, timeout=10))
    assert [task.result() for task in tasks] == [(None, None), (None, None)]
    # Within the loop's own timer precision (a loop may fire a timer a hair early).
    assert 0.099 <= ended["quick"] < 0.5
    assert ended["slow"] >= 0.599


def test_woken_waits_leave_nothing_behind_on_the_loop(loop):
    # A woken wait cancels no timer: its timeout's entry goes with the next wait.
    layer = ChannelLayer(receive_timeout=30)
    for n in range(200):
        receiving = loop.create_task(layer.receive_async(["c"]))
        settle(loop, 0)
        layer.send("c", {"n": n})
        assert loop.run_until_complete(receiving) == ("c", {"n": n})
    timeouts = inmemory_async._timeouts(loop)
    assert len(timeouts.heap) <= 1
    assert len(timeouts.armed) == 1


def test_a_loop_closed_with_a_timeout_pending_is_not_kept_alive():
    loop = asyncio.new_event_loop()
    layer = ChannelLayer(receive_timeout=30)
    task = loop.create_task(layer.receive_async(["c"]))
    settle(loop)
    task.cancel()
    loop.run_until_complete(asyncio.wait([task], timeout=10))
    assert len(inmemory_async._timeouts(loop).armed) == 1
    loop.close()
    closed = weakref.ref(loop)
    del loop, task
    gc.collect()
    assert closed() is None


class Waiter(object):
    """Something a LoopTimeouts can refer to weakly."""


def test_loop_timeouts_expire_every_wait_due_even_after_one_fails(loop):
    timeouts, expired = inmemory_async.LoopTimeouts(), []
    waiters = [Waiter() for _ in range(3)]

    def expire(waiter):
        expired.append(waiters.index(waiter))
        if waiter is waiters[0]:
            raise RuntimeError("a failing expire")

    errors = []
    loop.set_exception_handler(lambda loop, context: errors.append(context["exception"]))
    for waiter in waiters:
        timeouts.add(loop, 0.05, waiter, expire)
    settle(loop, 0.3)
    assert expired == [0, 1, 2]
    assert [str(error) for error in errors] == ["a failing expire"]
    assert timeouts.heap == [] and timeouts.armed == []


def test_loop_timeouts_skip_a_waiter_that_is_gone(loop):
    timeouts, expired = inmemory_async.LoopTimeouts(), []
    kept, gone = Waiter(), Waiter()
    timeouts.add(loop, 0.05, gone, expired.append)
    timeouts.add(loop, 0.05, kept, expired.append)
    del gone
    gc.collect()
    settle(loop, 0.3)
    assert expired == [kept]
