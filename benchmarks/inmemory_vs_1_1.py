"""
The in-memory layer of this package against asgiref 1.1.2's, same workloads,
one run. asgiref 1.1.2 is installed from the package index into a throwaway
virtualenv; each side runs in its own subprocess of this interpreter.

    python benchmarks/inmemory_vs_1_1.py [--seconds 1.0]

Prints operations per second (higher is better) and the median wake-up
latency of a blocked receiver (lower is better), with the ratios.
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
    """Best of three runs of ``operation`` repeated for ``seconds``: operations per second."""
    best = 0.0
    for _ in range(3):
        count = 0
        start = clock()
        elapsed = 0.0
        while elapsed < seconds:
            operation()
            count += 1
            elapsed = clock() - start
        best = max(best, count / elapsed)
    return best


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
    """Median milliseconds from a send to the blocked receiver holding the message."""
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
    latencies.sort()
    return 1000 * latencies[len(latencies) // 2]


def measure(seconds):
    """Run every workload on the asgiref importable here; results as a dict."""
    from asgiref.inmemory import ChannelLayer
    blocking = "statistics" in ChannelLayer.extensions  # only the new layer blocks
    results = {
        "ping-pong": ping_pong(ChannelLayer(), seconds),
        "ping-pong, 10,000 idle channels": ping_pong_idle(ChannelLayer(), seconds),
        "send_group to 1,000, all receive": fan_out(ChannelLayer(capacity=100), seconds),
        "wake-up latency, median ms": wake_up(ChannelLayer(), 200, blocking),
    }
    import asgiref
    results["version"] = asgiref.__version__
    return results


def run_side(python, pythonpath, seconds):
    environment = dict(os.environ, PYTHONPATH=pythonpath)
    output = subprocess.check_output(
        [python, os.path.abspath(__file__), "--measure", "--seconds", str(seconds)],
        env=environment, cwd=tempfile.gettempdir())
    return json.loads(output.decode("utf-8"))


def old_release_python(directory):
    subprocess.check_call([sys.executable, "-m", "venv", directory])
    python = os.path.join(directory, "bin", "python")
    subprocess.check_call([python, "-m", "pip", "install", "-q", OLD_RELEASE])
    return python


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per run of each workload")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure(arguments.seconds)))
        return
    directory = tempfile.mkdtemp(prefix="asgiref-1.1.2-")
    try:
        old = run_side(old_release_python(directory), "", arguments.seconds)
    finally:
        shutil.rmtree(directory)
    new = run_side(sys.executable, ROOT, arguments.seconds)
    print("Python %s, asgiref %s against %s" % (sys.version.split()[0], new.pop("version"), old.pop("version")))
    rows = [("workload", "asgiref 1.1.2", "this package", "ratio")]
    for name in new:
        if name.endswith("ms"):
            rows.append((name, "%.2f" % old[name], "%.3f" % new[name], "%.0fx lower" % (old[name] / new[name])))
        else:
            rows.append((name + ", ops/s", "%.0f" % old[name], "%.0f" % new[name], "%.1fx" % (new[name] / old[name])))
    print_table(rows)


if __name__ == "__main__":
    main()
