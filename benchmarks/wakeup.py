"""
How soon a waiting receiver of the in-memory layer has a message that
another thread sent: blocking ``receive`` in a thread, ``receive_async`` on
an asyncio loop and ``receive_twisted`` on the Twisted reactor (each in a
thread of its own), side by side in one run.

    python benchmarks/wakeup.py [--samples 1000]

All three wait at once, each on its own channel; one sender thread sends to
them in turn, a few milliseconds apart, so each send finds its receiver
asleep. A sample is the time from just before ``send`` to the receiver
holding the message. Needs Python 3; the Twisted column needs Twisted.
"""
from __future__ import print_function

import argparse
import asyncio
import os
import random
import sys
import threading
import time

from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from asgiref.inmemory import ChannelLayer  # noqa: E402

STOP = {"stop": True}


def blocking_receiver(layer, channel, record):
    def receive():
        while True:
            _, message = layer.receive([channel], block=True)
            if message == STOP:
                return
            if message is not None:
                record(message)
    threading.Thread(target=receive).start()


def async_receiver(layer, channel, record):
    async def receive():
        while True:
            _, message = await layer.receive_async([channel])
            if message == STOP:
                return
            if message is not None:
                record(message)
    threading.Thread(target=lambda: asyncio.new_event_loop().run_until_complete(receive())).start()


def twisted_receiver(layer, channel, record):
    from asgiref.conformance_twisted import running_reactor

    def receive_next(pair=None):
        # Receive again as soon as each Deferred fires, as Daphne 1.x does.
        while pair is None or pair[1] != STOP:
            if pair is not None and pair[1] is not None:
                record(pair[1])
            receiving = layer.receive_twisted([channel])
            if not receiving.called:
                receiving.addCallback(receive_next)
                return
            pair = receiving.result
    running_reactor().callFromThread(receive_next)


def measure(samples):
    """{kind: sorted wake-up seconds}, sampled in turn."""
    layer = ChannelLayer(receive_timeout=1)
    clock = time.perf_counter
    kinds = [("blocking receive", blocking_receiver), ("receive_async", async_receiver)]
    if "twisted" in layer.extensions:
        kinds.append(("receive_twisted", twisted_receiver))
    latencies = dict((name, []) for name, _ in kinds)
    received = threading.Event()

    def recorder(name):
        def record(message):
            latencies[name].append(clock() - message["sent"])
            received.set()
        return record
    for name, start in kinds:
        start(layer, "wake-" + name.replace(" ", "-"), recorder(name))
    time.sleep(0.2)
    for index in range(samples * len(kinds)):
        name = kinds[index % len(kinds)][0]
        time.sleep(random.uniform(0.002, 0.012))
        received.clear()
        layer.send("wake-" + name.replace(" ", "-"), {"sent": clock()})
        if not received.wait(5):
            raise SystemExit("%s did not wake up" % name)
    for name, _ in kinds:
        layer.send("wake-" + name.replace(" ", "-"), STOP)
    return dict((name, sorted(values)) for name, values in latencies.items()), [name for name, _ in kinds]


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="wake-ups of each kind")
    arguments = parser.parse_args()
    latencies, names = measure(arguments.samples)
    blocking = latencies[names[0]]

    def median(values):
        return values[len(values) // 2]

    def p99(values):
        return values[min(len(values) - 1, int(len(values) * 0.99))]
    print("Python %s, %d wake-ups of each kind, interleaved" % (sys.version.split()[0], arguments.samples))
    rows = [("receiver", "median", "p99", "median vs blocking")]
    for name in names:
        values = latencies[name]
        rows.append((name, "%.0f us" % (1e6 * median(values)), "%.0f us" % (1e6 * p99(values)),
                     "%.2fx" % (median(values) / median(blocking))))
    print_table(rows)


if __name__ == "__main__":
    main()
