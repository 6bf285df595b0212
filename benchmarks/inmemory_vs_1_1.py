"""
The in-memory layer of this package against asgiref 1.1.2's, same workloads,
one run. asgiref 1.1.2 is installed from the package index into a throwaway
virtualenv; each side runs in its own subprocess of this interpreter, and
the two take turns: every workload runs on one side, then on the other,
``--rounds`` times, so a slower spell of a shared machine falls on both.

    python benchmarks/inmemory_vs_1_1.py [--seconds 0.5] [--rounds 7]

Prints operations per second (the median round of each side, higher is
better) with the median of the rounds' ratios, each round's two sides run
back to back; and the median wake-up latency of a blocked receiver over
all rounds (lower is better).
"""
from __future__ import print_function, unicode_literals

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OLD_RELEASE = "asgiref==1.1.2"
clock = getattr(time, "perf_counter", time.time)

# A ~1 KB http.request as a protocol server sends it.
REQUEST = {
    "reply_channel": "daphne.response.AbCdEfGhIj!KlMnOpQrStUv",
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/api/orders/12345/items",
    "root_path": "",
    "query_string": b"page=2&sort=-created",
    "headers": [
        [b"host", b"shop.example.com"],
        [b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"],
        [b"accept", b"application/json"],
        [b"accept-language", b"en-GB,en;q=0.5"],
        [b"accept-encoding", b"gzip, deflate, br"],
        [b"content-type", b"application/json"],
        [b"content-length", b"512"],
        [b"cookie", b"sessionid=0123456789abcdef0123456789abcdef; csrftoken=abcdefabcdefabcdef"],
        [b"connection", b"keep-alive"],
    ],
    "body": b"x" * 512,
    "client": ["127.0.0.1", 51234],
    "server": ["127.0.0.1", 8000],
}


def rate(operation, seconds):
    """``operation`` repeated for ``seconds`` (and at least 3 times): operations per second."""
    count = 0
    start = clock()
    elapsed = 0.0
    while elapsed < seconds or count < 3:
        operation()
        count += 1
        elapsed = clock() - start
    return count / elapsed


def ping_pong(layer, seconds):
    send, receive = layer.send, layer.receive

    def round_trip():
        send("http.request", REQUEST)
        receive(["http.request"])
    return rate(round_trip, seconds)


def ping_pong_idle(layer, seconds):
    for index in range(10000):
        layer.send("idle.channel%d" % index, {"index": index})
    return ping_pong(layer, seconds)


def fan_out(layer, seconds):
    members = ["member%d" % index for index in range(1000)]
    for member in members:
        layer.group_add("everyone", member)
    receive = layer.receive

    def broadcast():
        layer.send_group("everyone", REQUEST)
        for member in members:
            receive([member])
    return rate(broadcast, seconds)


def wake_up(layer, samples, blocking):
    """Milliseconds from a send to the blocked receiver holding the message, for each of ``samples``."""
    latencies = []
    done = threading.Event()

    def consume():
        while len(latencies) < samples:
            if blocking:
                channel, message = layer.receive(["wake"], block=True)
            else:
                # asgiref 1.1 ignores block=True; Channels 1's worker polls so.
                channel, message = layer.receive(["wake"])
                if channel is None:
                    time.sleep(0.01)
            if channel is not None:
                latencies.append(clock() - message["sent"])
                done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    for _ in range(samples):
        time.sleep(random.uniform(0.002, 0.012))
        done.clear()
        layer.send("wake", {"sent": clock()})
        done.wait(5)
    consumer.join()
    return [1000 * latency for latency in latencies]


WORKLOADS = [
    "ping-pong",
    "ping-pong, 10,000 idle channels",
    "send_group to 1,000, all receive",
    "wake-up latency, median ms",
]


def measure(workload, seconds):
    """One run of ``workload`` on the asgiref importable here."""
    from asgiref.inmemory import ChannelLayer
    if workload == "ping-pong":
        return ping_pong(ChannelLayer(), seconds)
    if workload == "ping-pong, 10,000 idle channels":
        return ping_pong_idle(ChannelLayer(), seconds)
    if workload == "send_group to 1,000, all receive":
        return fan_out(ChannelLayer(capacity=100), seconds)
    blocking = "statistics" in ChannelLayer.extensions  # only the new layer blocks
    return wake_up(ChannelLayer(), 30, blocking)


def serve(seconds):
    """The subprocess: the asgiref version, then one result line for each workload name read."""
    import asgiref
    print(json.dumps(asgiref.__version__))
    sys.stdout.flush()
    for line in iter(sys.stdin.readline, ""):
        print(json.dumps(measure(json.loads(line), seconds)))
        sys.stdout.flush()


class Side(object):
    """One asgiref, measuring in its own subprocess on request."""

    def __init__(self, python, pythonpath, seconds):
        self.process = subprocess.Popen(
            [python, os.path.abspath(__file__), "--measure", "--seconds", str(seconds)],
            env=dict(os.environ, PYTHONPATH=pythonpath), cwd=tempfile.gettempdir(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        self.version = self.read()

    def read(self):
        return json.loads(self.process.stdout.readline())

    def run(self, workload):
        self.process.stdin.write(json.dumps(workload) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def old_release_python(directory):
    subprocess.check_call([sys.executable, "-m", "venv", directory])
    python = os.path.join(directory, "bin", "python")
    subprocess.check_call([python, "-m", "pip", "install", "-q", OLD_RELEASE])
    return python


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per run of each workload")
    parser.add_argument("--rounds", type=int, default=7, help="turns each side takes at each workload")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        serve(arguments.seconds)
        return
    directory = tempfile.mkdtemp(prefix="asgiref-1.1.2-")
    try:
        old = Side(old_release_python(directory), "", arguments.seconds)
        new = Side(sys.executable, ROOT, arguments.seconds)
        results = dict((side, dict((name, []) for name in WORKLOADS)) for side in (old, new))
        for _ in range(arguments.rounds):
            for name in WORKLOADS:
                for side in (old, new):
                    results[side][name].append(side.run(name))
        old.close()
        new.close()
    finally:
        shutil.rmtree(directory)
    print("Python %s, asgiref %s against %s, %d rounds taking turns"
          % (sys.version.split()[0], new.version, old.version, arguments.rounds))
    rows = [("workload", "asgiref 1.1.2", "this package", "ratio")]
    for name in WORKLOADS:
        if name.endswith("ms"):
            before, after = (median(sum(results[side][name], [])) for side in (old, new))
            rows.append((name, "%.2f" % before, "%.3f" % after, "%.0fx lower" % (before / after)))
        else:
            before, after = (median(results[side][name]) for side in (old, new))
            ratio = median([late / early for early, late in zip(results[old][name], results[new][name])])
            rows.append((name + ", ops/s", "%.0f" % before, "%.0f" % after, "%.1fx" % ratio))
    print_table(rows)


def median(values):
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    main()
