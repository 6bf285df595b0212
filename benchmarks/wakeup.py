"""
How soon a waiting receiver of the in-memory layer has a message that
another thread sent: blocking ``receive`` in a thread, ``receive_async`` on
an asyncio loop and ``receive_twisted`` on the Twisted reactor (each in a
thread of its own), side by side in one run.

    python benchmarks/wakeup.py [--samples 1000]

All three wait at once, each on its own channel; one sender thread sends to
them in rounds, a few milliseconds apart, so each send finds its receiver
asleep. Each round takes every kind once, in a new random order: a kind
that always came right after another would find the code they share (the
event loop's, the layer's send) warm, and a floor measured always right
after its receiver would look faster than it is. A sample is the time from
just before ``send`` to the receiver holding the message. Each is shown
beside its floor, the same wake-up with no layer (another thread wakes a
receiver waiting in its own thread the same way): a bare lock released,
asyncio's (and uvloop's) call_soon_threadsafe setting a future that a
coroutine awaits, Twisted's callFromThread firing a Deferred. Needs Python
3; the Twisted rows need Twisted, the uvloop rows uvloop.
"""
from __future__ import print_function

import argparse
import asyncio
import os
import random
import sys
import threading
import time
from functools import partial

from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from asgiref.inmemory import ChannelLayer  # noqa: E402

STOP = {"stop": True}


def blocking_receiver(layer, record):
    def receive():
        while True:
            _, message = layer.receive(["wake-blocking"], block=True)
            if message == STOP:
                return
            if message is not None:
                record(message)
    threading.Thread(target=receive).start()
    return lambda message: layer.send("wake-blocking", message)


def async_receiver(layer, record, new_loop=asyncio.new_event_loop):
    async def receive():
        while True:
            _, message = await layer.receive_async(["wake-async"])
            if message == STOP:
                return
            if message is not None:
                record(message)
    threading.Thread(target=lambda: new_loop().run_until_complete(receive())).start()
    return lambda message: layer.send("wake-async", message)


def twisted_receiver(layer, record):
    from asgiref.conformance.twisted_helpers import running_reactor

    def receive_next(pair=None):
        # Receive again as soon as each Deferred fires, as Daphne 1.x does.
        while pair is None or pair[1] != STOP:
            if pair is not None and pair[1] is not None:
                record(pair[1])
            receiving = layer.receive_twisted(["wake-twisted"])
            if not receiving.called:
                receiving.addCallback(receive_next)
                return
            pair = receiving.result
    running_reactor().callFromThread(receive_next)
    return lambda message: layer.send("wake-twisted", message)


# The floors: each way of waking, with no channel layer in between.

def lock_floor(layer, record):
    bell, box = threading.Lock(), []
    bell.acquire()

    def receive():
        while True:
            bell.acquire()
            if box[0] == STOP:
                return
            record(box[0])
    threading.Thread(target=receive).start()

    def send(message):
        box[:] = [message]
        bell.release()
    return send


def asyncio_floor(layer, record, new_loop=asyncio.new_event_loop):
    loop, box = new_loop(), []

    async def receive():
        while True:
            box[:] = [loop.create_future()]
            message = await box[0]
            if message == STOP:
                return
            record(message)
    threading.Thread(target=lambda: loop.run_until_complete(receive())).start()
    return lambda message: loop.call_soon_threadsafe(box[0].set_result, message)


def twisted_floor(layer, record):
    from twisted.internet import defer
    from asgiref.conformance.twisted_helpers import running_reactor
    reactor, box = running_reactor(), []

    def receive_next(message=None):
        if message == STOP:
            return
        if message is not None:
            record(message)
        box[:] = [defer.Deferred()]
        box[0].addCallback(receive_next)
    reactor.callFromThread(receive_next)
    return lambda message: reactor.callFromThread(box[0].callback, message)


def pairs(layer):
    """(receiver, its floor) pairs to measure here, each as (name, start)."""
    found = [
        (("blocking receive", blocking_receiver), ("a bare lock", lock_floor)),
        (("receive_async", async_receiver), ("asyncio call_soon_threadsafe", asyncio_floor)),
    ]
    if "twisted" in layer.extensions:
        found.append((("receive_twisted", twisted_receiver), ("Twisted callFromThread", twisted_floor)))
    try:
        import uvloop
    except ImportError:
        return found
    # uvloop, as uvicorn runs when it is installed.
    found.append((("receive_async, uvloop", partial(async_receiver, new_loop=uvloop.new_event_loop)),
                  ("uvloop call_soon_threadsafe", partial(asyncio_floor, new_loop=uvloop.new_event_loop))))
    return found


def measure(kinds, layer, samples):
    """{name: sorted wake-up seconds} of each (name, start) kind, over ``samples`` rounds of all kinds."""
    clock = time.perf_counter
    latencies = dict((name, []) for name, _ in kinds)
    received = threading.Event()

    def recorder(name):
        def record(message):
            latencies[name].append(clock() - message["sent"])
            received.set()
        return record
    senders = [start(layer, recorder(name)) for name, start in kinds]
    time.sleep(0.2)
    order = list(range(len(kinds)))
    for _ in range(samples):
        random.shuffle(order)
        for index in order:
            time.sleep(random.uniform(0.002, 0.012))
            received.clear()
            senders[index]({"sent": clock()})
            if not received.wait(5):
                raise SystemExit("%s did not wake up" % kinds[index][0])
    for send in senders:
        send(STOP)
    return dict((name, sorted(values)) for name, values in latencies.items())


def median(values):
    return values[len(values) // 2]


def p99(values):
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="wake-ups of each kind")
    arguments = parser.parse_args()
    layer = ChannelLayer(receive_timeout=1)
    measured = pairs(layer)
    latencies = measure([kind for pair in measured for kind in pair], layer, arguments.samples)
    blocking = median(latencies["blocking receive"])
    print("Python %s, %d rounds, each waking every kind once in a random order"
          % (sys.version.split()[0], arguments.samples))
    rows = [("receiver", "median", "p99", "vs blocking", "floor", "floor median", "vs floor", "layer adds")]
    for (name, _), (floor, _) in measured:
        values, floor_median = latencies[name], median(latencies[floor])
        rows.append((
            name, "%.0f us" % (1e6 * median(values)), "%.0f us" % (1e6 * p99(values)),
            "%.2fx" % (median(values) / blocking), floor, "%.0f us" % (1e6 * floor_median),
            "%.2fx" % (median(values) / floor_median), "%.0f us" % (1e6 * (median(values) - floor_median))))
    print_table(rows)


if __name__ == "__main__":
    main()
