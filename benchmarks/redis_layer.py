"""
The Redis layer of this package against asgi_redis 1.4.3 and channels_redis
4, same workloads, same local redis-server, one run.

    python benchmarks/redis_layer.py [--seconds 1.0] [--rounds 3] [--python36 PATH]

The script starts its own redis-server (redis-server on the PATH) on a free
port and builds two throwaway virtualenvs under a cache directory:
asgi_redis 1.4.3 on Python 3.6 (its pinned redis~=2.10.6, msgpack-python,
asgiref 1.1.2) and channels_redis 4 on this Python. This package runs from
the source tree with this Python (which needs the ``redis`` extra
installed). Each side runs in its own subprocess, the sides taking turns
for several rounds; each keeps its best.

Against asgi_redis both sides use the synchronous ASGI 1 calls (``send``,
``receive``); against channels_redis this package uses ``send`` and
``receive_async`` and channels_redis its ``send`` / ``receive`` coroutines.
Round trips per operation are Redis's own count of the reads it served
(``total_reads_processed``) over a counted run, divided by the operations:
one per round trip, more for a request over 16 KB (send_group's script
call to 1,000 members). Ping-pong is a send and a receive; the 10 x 10
threads (or coroutines) share one channel; send_group's members are
ordinary channels; the 100-channel receive is one call on all of them here
and with asgi_redis, while channels_redis, which receives on one channel a
call, waits on 99 process-specific channels beside the busy one.
"""
from __future__ import print_function, unicode_literals

import argparse
import glob
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

from inmemory_vs_1_1 import REQUEST, clock, rate, wake_up
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "asgiref-benchmarks")
SIDES = {
    # side: (what it is, what pip installs, the module and class of its layer)
    "asgi_redis": ("asgi_redis 1.4.3", ["asgi_redis==1.4.3"], "asgi_redis", "RedisChannelLayer"),
    "channels_redis": ("channels_redis 4", ["channels_redis>=4,<5"], "channels_redis.core", "RedisChannelLayer"),
    "this": ("this package", None, "asgiref.redis", "RedisChannelLayer"),
}
PRODUCERS = CONSUMERS = 10
MEMBERS = 1000
IDLE = 99
SMALL = {"text": "a websocket frame to everyone"}
WORKLOADS = [
    ("ping_pong", "ping-pong, ~1 KB, ops/s"),
    ("throughput", "10 producers x 10 consumers, msgs/s"),
    ("send_group", "send_group to 1,000 members, ops/s"),
    ("busy_among_idle", "receive on 100 channels, 1 busy, ops/s"),
    ("wake_up", "wake-up of a blocked receive, median ms"),
]


# Redis spoken directly, the same way from every side's Python.

def redis_command(port, *words):
    """Send one command to the redis-server on ``port``; return its reply (bytes, int or list)."""
    connection = socket.create_connection(("127.0.0.1", port))
    try:
        request = "*%d\r\n" % len(words) + "".join("$%d\r\n%s\r\n" % (len(word), word) for word in words)
        connection.sendall(request.encode("utf8"))
        return read_reply(connection.makefile("rb"))
    finally:
        connection.close()


def read_reply(stream):
    line = stream.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise RuntimeError(rest.decode("utf8"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if int(rest) < 0 else stream.read(int(rest) + 2)[:-2]
    if kind == b"*":
        return [read_reply(stream) for _ in range(int(rest))]
    return rest


def clear_messages(port):
    """Delete every key but the groups' (untimed, between runs of send_group)."""
    keys = [key.decode("utf8") for key in redis_command(port, "KEYS", "*") if b"group" not in key]
    for start in range(0, len(keys), 1000):
        redis_command(port, "DEL", *keys[start:start + 1000])


def reads_served(port):
    stats = redis_command(port, "INFO", "stats").decode("ascii")
    return int(stats.split("total_reads_processed:")[1].split()[0])


def round_trips(port, operation, count):
    """Redis reads served per call of ``operation`` (the INFO call's own read taken off)."""
    before = reads_served(port)
    for _ in range(count):
        operation()
    return (reads_served(port) - before - 1) / float(count)


def start_redis(replica_of=None):
    """
    A throwaway redis-server on a free port, saving nothing: (process,
    port); with ``replica_of`` (a port), a replica of the server there.
    """
    from http_bridge import free_port  # in the main process only: it needs six
    port = free_port()
    directory = tempfile.mkdtemp(prefix="redis-benchmark-")
    replication = [] if replica_of is None else ["--replicaof", "127.0.0.1", str(replica_of)]
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", directory] + replication, stdout=open(os.devnull, "w"))
    for _ in range(200):
        try:
            redis_command(port, "PING")
            return process, port
        except socket.error:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


# The workloads on the synchronous calls (asgi_redis, this package).

def sync_workloads(make_layer, port, seconds):
    results, trips = {}, {}
    layer = make_layer()

    def ping_pong():
        layer.send("http.request", REQUEST)
        layer.receive(["http.request"])
    results["ping_pong"] = rate(ping_pong, seconds)
    trips["ping_pong"] = round_trips(port, ping_pong, 100)

    results["throughput"], trips["throughput"] = sync_throughput(make_layer(capacity=1000000), port, seconds)

    layer = make_layer(capacity=1000000)
    members = ["member%d" % index for index in range(MEMBERS)]
    for member in members:
        layer.group_add("everyone", member)
    results["send_group"] = capped_rate(lambda: layer.send_group("everyone", SMALL), seconds, 50,
                                        lambda: clear_messages(port))
    trips["send_group"] = round_trips(port, lambda: layer.send_group("everyone", SMALL), 2)

    layer = make_layer()
    channels = ["idle%d" % index for index in range(IDLE)] + ["busy"]

    def busy():
        layer.send("busy", REQUEST)
        layer.receive(channels, block=True)
    results["busy_among_idle"] = rate(busy, seconds)
    trips["busy_among_idle"] = round_trips(port, busy, 100)

    results["wake_up"] = wake_up(make_layer(), 200, True)
    if make_layer().__class__.__module__.startswith("asgiref"):
        results["bare_wake_up"] = wake_up(BareRedis(port), 200, True)
    return results, trips


class BareRedis(object):
    """
    The floor under a wake-up: a message msgpacked into a list and a bare
    redis-py BLPOP on it, one round trip each way, no layer.
    """

    def __init__(self, port):
        import redis
        self.client = redis.Redis(port=port)

    def send(self, channel, message):
        import msgpack
        self.client.rpush(channel, msgpack.packb(message))

    def receive(self, channels, block=False):
        import msgpack
        channel, data = self.client.blpop(channels, 5)
        return channel.decode("utf8"), msgpack.unpackb(data)


def capped_rate(operation, seconds, cap, reset):
    """Best of three runs of at most ``cap`` calls or ``seconds``; ``reset()`` runs untimed between them."""
    best = 0.0
    for _ in range(3):
        reset()
        count, elapsed, start = 0, 0.0, clock()
        while elapsed < seconds and count < cap:
            operation()
            count += 1
            elapsed = clock() - start
        best = max(best, count / elapsed)
    reset()
    return best


def sync_throughput(layer, port, seconds):
    """10 producer threads and 10 consumer threads on one channel: messages per second, round trips each."""
    per_producer = max(50, int(100 * seconds))
    total = PRODUCERS * per_producer
    received = [0]
    lock = threading.Lock()
    finished = threading.Event()
    marks = {}

    def produce():
        for index in range(per_producer):
            layer.send("work", {"index": index, "body": b"x" * 100})

    def consume():
        while True:
            channel, message = layer.receive(["work"], block=True)
            if message is None:
                continue
            if message.get("stop"):
                return
            with lock:
                received[0] += 1
                if received[0] == total:
                    marks["end"] = clock()
                    finished.set()

    consumers = [threading.Thread(target=consume) for _ in range(CONSUMERS)]
    for thread in consumers:
        thread.start()
    producers = [threading.Thread(target=produce) for _ in range(PRODUCERS)]
    reads = reads_served(port)
    start = clock()
    for thread in producers:
        thread.start()
    finished.wait(600)
    trips = (reads_served(port) - reads - 1) / float(total)
    for thread in producers:
        thread.join()
    for _ in consumers:
        layer.send("work", {"stop": True})
    for thread in consumers:
        thread.join()
    return total / (marks["end"] - start), trips


# The workloads on coroutines (channels_redis, this package's receive_async).

def async_workloads(make_layer, port, seconds, send, receive):
    import asyncio

    async def timed(operation, cap=None):
        best = 0.0
        for _ in range(3):
            count, elapsed, start = 0, 0.0, clock()
            while elapsed < seconds and (cap is None or count < cap):
                await operation()
                count += 1
                elapsed = clock() - start
            best = max(best, count / elapsed)
        return best

    async def counted(operation, count):
        before = reads_served(port)
        for _ in range(count):
            await operation()
        return (reads_served(port) - before - 1) / float(count)

    async def run():
        results, trips = {}, {}
        layer = make_layer()

        async def ping_pong():
            await send(layer, "http.request", REQUEST)
            await receive(layer, ["http.request"])
        results["ping_pong"] = await timed(ping_pong)
        trips["ping_pong"] = await counted(ping_pong, 100)

        results["throughput"], trips["throughput"] = await async_throughput(
            make_layer(capacity=1000000), port, seconds, send, receive)

        layer = make_layer(capacity=1000000)
        for index in range(MEMBERS):
            await maybe_await(layer.group_add("everyone", "member%d" % index))

        async def broadcast():
            await maybe_await(group_send(layer)("everyone", SMALL))
        results["send_group"] = 0.0
        for _ in range(3):
            clear_messages(port)
            results["send_group"] = max(results["send_group"], await timed_once(broadcast, seconds, 50))
        clear_messages(port)
        trips["send_group"] = await counted(broadcast, 2)

        layer = make_layer()
        if layer.__class__.__module__.startswith("asgiref"):
            channels = ["idle%d" % index for index in range(IDLE)] + ["busy"]
            idle, busy_channel, listen = [], "busy", channels
        else:
            # channels_redis receives on one channel per call; a process
            # listening on many does it with one process-specific channel
            # each, 99 of them waiting beside the busy one.
            channels = [await layer.new_channel() for _ in range(IDLE + 1)]
            idle = [asyncio.ensure_future(receive(layer, [name])) for name in channels[:IDLE]]
            busy_channel, listen = channels[-1], channels[-1:]

        async def busy():
            await send(layer, busy_channel, REQUEST)
            await receive(layer, listen)
        await asyncio.sleep(0.2)
        results["busy_among_idle"] = await timed(busy)
        trips["busy_among_idle"] = await counted(busy, 100)
        for waiting in idle:
            waiting.cancel()
        await asyncio.gather(*idle, return_exceptions=True)

        results["wake_up"] = await async_wake_up(make_layer(), 200, send, receive)
        return results, trips

    return asyncio.run(run())


async def maybe_await(value):
    import inspect
    if inspect.isawaitable(value):
        return await value
    return value


def group_send(layer):
    return getattr(layer, "group_send", None) or layer.send_group


async def timed_once(operation, seconds, cap):
    count, elapsed, start = 0, 0.0, clock()
    while elapsed < seconds and count < cap:
        await operation()
        count += 1
        elapsed = clock() - start
    return count / elapsed


async def async_throughput(layer, port, seconds, send, receive):
    """10 producer tasks and 10 consumer tasks on one channel: messages per second, round trips each."""
    import asyncio
    per_producer = max(50, int(100 * seconds))
    total = PRODUCERS * per_producer
    received = [0]
    finished = asyncio.Event()
    marks = {}

    async def produce():
        for index in range(per_producer):
            await send(layer, "work", {"index": index, "body": b"x" * 100})
            await asyncio.sleep(0)

    async def consume():
        while True:
            channel, message = await receive(layer, ["work"])
            if message is None:
                continue
            if message.get("stop"):
                return
            received[0] += 1
            if received[0] == total:
                marks["end"] = clock()
                finished.set()

    consumers = [asyncio.ensure_future(consume()) for _ in range(CONSUMERS)]
    await asyncio.sleep(0.2)
    reads = reads_served(port)
    start = clock()
    producers = [asyncio.ensure_future(produce()) for _ in range(PRODUCERS)]
    await asyncio.wait_for(finished.wait(), 600)
    trips = (reads_served(port) - reads - 1) / float(total)
    await asyncio.gather(*producers)
    for _ in consumers:
        await send(layer, "work", {"stop": True})
    await asyncio.gather(*consumers)
    return total / (marks["end"] - start), trips


async def async_wake_up(layer, samples, send, receive):
    """Median milliseconds from a send to the receiving coroutine holding the message."""
    import asyncio
    latencies = []

    async def consume():
        while len(latencies) < samples:
            channel, message = await receive(layer, ["wake"])
            if channel is not None:
                latencies.append(clock() - message["sent"])

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.2)
    for _ in range(samples):
        await asyncio.sleep(random.uniform(0.002, 0.012))
        await send(layer, "wake", {"sent": clock()})
    await asyncio.wait_for(consumer, 30)
    latencies.sort()
    return 1000 * latencies[len(latencies) // 2]


def measure(side, port, seconds, use_async):
    """Run every workload on one side's layer; results and round trips as a dict."""
    import importlib
    _, _, module, name = SIDES[side]
    layer_class = getattr(importlib.import_module(module), name)

    def make_layer(**options):
        redis_command(port, "FLUSHALL")
        return layer_class(hosts=[("127.0.0.1", port)], **options)

    if not use_async:
        results, trips = sync_workloads(make_layer, port, seconds)
    elif side == "channels_redis":
        async def send(layer, channel, message):
            await layer.send(channel, message)

        async def receive(layer, channels):
            return channels[0], await layer.receive(channels[0])
        results, trips = async_workloads(make_layer, port, seconds, send, receive)
    else:
        async def send(layer, channel, message):
            layer.send(channel, message)

        async def receive(layer, channels):
            return await layer.receive_async(channels)
        results, trips = async_workloads(make_layer, port, seconds, send, receive)
    return {"results": results, "round_trips": trips}


def add_sides_arguments(parser, old_side):
    """The options naming what the benchmark compares: the Python 3.6 of ``old_side``, this package's tree."""
    parser.add_argument("--python36", help="the Python 3.6 to run %s on" % old_side)
    parser.add_argument("--tree", default=ROOT, help="the source tree of this package to measure")


def python36(given):
    """``given``, or the first Python 3.6 found that runs (a pyenv shim may not, outside its project)."""
    candidates = [given] if given else (
        [os.popen("command -v python3.6").read().strip()] + sorted(glob.glob(os.path.expanduser(
            "~/.pyenv/versions/3.6*/bin/python"))))
    for candidate in candidates:
        if candidate and os.path.exists(candidate) and subprocess.call(
                [candidate, "-c", ""], stdout=open(os.devnull, "w"), stderr=subprocess.STDOUT) == 0:
            return candidate
    raise SystemExit("asgi_redis 1.4.3 needs Python 3.6: pass --python36")


def cached_python(name, interpreter, requirements):
    """The Python of a cached virtualenv ``name`` on ``interpreter`` with ``requirements``, built on first use."""
    version = subprocess.check_output([interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    version = version.decode("ascii").strip()
    directory = os.path.join(CACHE, "%s-py%s" % (name, version))
    python = os.path.join(directory, "bin", "python")
    if not os.path.exists(os.path.join(directory, "ready")):
        subprocess.check_call([interpreter, "-m", "venv", "--clear", directory])
        if version == "3.6":
            # 3.6's own pip 18 picks releases that no longer run on 3.6.
            subprocess.check_call([python, "-m", "pip", "install", "-q", "pip==21.3.1"])
        subprocess.check_call([python, "-m", "pip", "install", "-q"] + requirements)
        open(os.path.join(directory, "ready"), "w").close()
    return python


def run_side(python, side, port, seconds, use_async, tree=""):
    environment = dict(os.environ, PYTHONPATH=tree)
    command = [python, os.path.abspath(__file__), "--measure", side, "--port", str(port),
               "--seconds", str(seconds)] + (["--async"] if use_async else [])
    output = subprocess.check_output(command, env=environment, cwd=tempfile.gettempdir())
    return json.loads(output.decode("utf-8"))


def best(runs):
    """Per workload, the best of several runs: the highest rate, the lowest latency."""
    results = {}
    for key in runs[0]["results"]:
        values = [run["results"][key] for run in runs]
        results[key] = min(values) if key.endswith("wake_up") else max(values)
    return {"results": results, "round_trips": runs[0]["round_trips"]}


def table(title, old_name, old, new):
    print(title)
    rows = [("workload", old_name, "this package", "ratio", "round trips (%s / this)" % old_name.split()[0])]
    for key, label in WORKLOADS:
        before, after = old["results"][key], new["results"][key]
        if key == "wake_up":
            ratio = "%.1fx lower" % (before / after)
            cells = ("%.2f" % before, "%.2f" % after)
        else:
            ratio = "%.1fx" % (after / before)
            cells = ("%.0f" % before, "%.0f" % after)
        if key in old["round_trips"]:
            trips = "%.1f / %.1f" % (old["round_trips"][key], new["round_trips"][key])
        else:
            trips = ""
        rows.append((label,) + cells + (ratio, trips))
    print_table(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per run of each workload")
    parser.add_argument("--rounds", type=int, default=3, help="turns each side takes; the best counts")
    add_sides_arguments(parser, "asgi_redis 1.4.3")
    parser.add_argument("--measure", choices=sorted(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--async", dest="use_async", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure(arguments.measure, arguments.port, arguments.seconds, arguments.use_async)))
        return
    old_python = cached_python("asgi_redis", python36(arguments.python36), SIDES["asgi_redis"][1])
    current_python = cached_python("channels_redis", sys.executable, SIDES["channels_redis"][1])
    process, port = start_redis()
    runs = {"asgi_redis": [], "this": [], "channels_redis": [], "this_async": []}
    try:
        # The sides take turns, round after round: a load that comes and
        # goes on the machine falls on all of them; each keeps its best.
        for _ in range(arguments.rounds):
            runs["asgi_redis"].append(run_side(old_python, "asgi_redis", port, arguments.seconds, False))
            runs["this"].append(run_side(sys.executable, "this", port, arguments.seconds, False, arguments.tree))
            runs["channels_redis"].append(run_side(current_python, "channels_redis", port, arguments.seconds, True))
            runs["this_async"].append(run_side(sys.executable, "this", port, arguments.seconds, True, arguments.tree))
    finally:
        process.terminate()
        process.wait()
    asgi_redis, ours, channels_redis, ours_async = (
        best(runs[side]) for side in ("asgi_redis", "this", "channels_redis", "this_async"))
    print("Python %s (asgi_redis on 3.6), one local redis-server, best of %d interleaved rounds"
          % (sys.version.split()[0], arguments.rounds))
    table("Synchronous calls, against asgi_redis 1.4.3:", "asgi_redis 1.4.3", asgi_redis, ours)
    print("The floor: a bare redis-py BLPOP on a msgpacked message wakes in %.2f ms here."
          % ours["results"]["bare_wake_up"])
    table("Coroutines, against channels_redis 4:", "channels_redis 4", channels_redis, ours_async)


if __name__ == "__main__":
    main()
