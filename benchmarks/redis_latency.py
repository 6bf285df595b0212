"""
The split with Redis one network hop away: ``asgiref interface`` + ``asgiref
worker`` with Redis local and behind a delay proxy adding 0.5 ms each way
(delay_proxy.py, as a managed Redis in the next rack), on the uvicorn front
against the waitress front, in one run.

    python benchmarks/redis_latency.py [--seconds 5] [--rounds 3] [--connections 32] [--workers 16]

Four interface + worker pairs serve the hello WSGI app (hello_app.py), each
pair on a Redis database of its own: one front or the other, Redis direct
or through the proxy. The worker runs ``--workers`` threads, the interface
its defaults (waitress: 8 threads). One local redis-server, started here;
the proxy is a process of its own, so its threads share no GIL with this
one. Load comes from wrk on loopback, the four configurations taking turns
for several rounds, each keeping its best run; requests that failed (not
2xx, or a socket error) are counted, not fatal.

The targets (issue 16): through the hop the uvicorn front keeps at least
0.5x its own direct throughput, and at least 1.0x the waitress front's
through the same hop.

Needs Linux, wrk, redis-server, and the ``serve`` and ``redis`` extras
(uvicorn: Python 3.9+).
"""
from __future__ import print_function

import argparse
import os
import re
import socket
import subprocess
import sys
import time

import uvicorn

from asgi3_front import _event_loop
from cpu_time import cpu_seconds
from http_bridge import free_port, wrk
from redis_layer import start_redis
from redis_split import start, stop
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FRONTS = ("uvicorn", "waitress")
REDIS = ("direct", "hop")


def start_proxy(target_port, delay):
    """delay_proxy.py in a process of its own in front of ``target_port``: (process, port)."""
    process = subprocess.Popen([sys.executable, "-u", os.path.join(HERE, "delay_proxy.py"), str(target_port),
                                "--delay", repr(delay)], stdout=subprocess.PIPE)
    line = process.stdout.readline().decode("ascii")
    match = re.search(r"127\.0\.0\.1:(\d+) to", line)
    if match is None:
        process.kill()
        raise SystemExit("the delay proxy did not start: %r" % line)
    return process, int(match.group(1))


def ping_median(port, count=500):
    """The median round trip of a Redis PING on one connection to ``port``, in seconds."""
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.sendall(b"PING\r\n")
            if not connection.recv(64).startswith(b"+PONG"):
                raise SystemExit("Redis did not answer PING on port %d" % port)
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    return sorted(times)[count // 2]


def pair(front, redis_url, workers, port):
    """``asgiref interface`` on ``front`` and ``asgiref worker`` over ``redis_url``, answering on ``port``."""
    layer = ["--layer", redis_url, "--log-level", "WARNING"]
    return start([
        [sys.executable, "-m", "asgiref", "interface", "--server", front, "--port", str(port)] + layer,
        [sys.executable, "-m", "asgiref", "worker", "hello_app:application", "--workers", str(workers)] + layer,
    ], {"path": [ROOT, HERE]}, port)


def measure(arguments, redis_port, proxy):
    """
    {(front, redis): (req/s, p50, p99, failed requests, the proxy's share of
    a core)}, the best of the interleaved rounds.
    """
    proxy_process, proxy_port = proxy
    ports, processes = {}, []
    try:
        for database, (front, redis) in enumerate((front, redis) for front in FRONTS for redis in REDIS):
            url = "redis://127.0.0.1:%d/%d" % (redis_port if redis == "direct" else proxy_port, database)
            ports[(front, redis)] = port = free_port()
            processes.append(pair(front, url, arguments.workers, port))
        for port in ports.values():
            wrk(port, arguments.connections, 1)  # warm up
        results = {}
        for _ in range(arguments.rounds):
            for configuration, port in ports.items():
                used = sum(cpu_seconds(proxy_process.pid))
                rate, p50, p99, failed, _ = wrk(port, arguments.connections, arguments.seconds)
                proxy_cpu = (sum(cpu_seconds(proxy_process.pid)) - used) / arguments.seconds
                best = results.get(configuration)
                if best is None or rate > best[0]:
                    results[configuration] = (rate, p50, p99, failed, proxy_cpu)
        return results
    finally:
        for started in processes:
            stop(started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="turns each configuration takes")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=16, help="the worker's threads")
    parser.add_argument("--delay", type=float, default=0.0005, help="seconds the proxy adds each way")
    arguments = parser.parse_args()
    redis, redis_port = start_redis()
    proxy = None
    try:
        proxy, proxy_port = start_proxy(redis_port, arguments.delay)
        added = ping_median(proxy_port) - ping_median(redis_port)
        results = measure(arguments, redis_port, (proxy, proxy_port))
    finally:
        for process in (proxy, redis):
            if process is not None:
                process.terminate()
                process.wait()

    print("Python %s, uvicorn %s on %s; worker %d threads, interface defaults (waitress 8 threads); wrk -c%d, "
          "%ds per run, best of %d interleaved rounds; the hop adds %.2f ms to a PING round trip (median, idle); "
          "2-core machine, load average %.1f at the end" % (
              sys.version.split()[0], uvicorn.__version__, _event_loop(), arguments.workers, arguments.connections,
              arguments.seconds, arguments.rounds, added * 1e3, os.getloadavg()[0]))
    rows = [("front", "req/s direct", "req/s hop", "hop / direct", "p50 direct", "p50 hop", "p99 direct", "p99 hop",
             "failed direct / hop", "proxy CPU")]
    for front in FRONTS:
        direct, hop = results[(front, "direct")], results[(front, "hop")]
        rows.append((front, "%.0f" % direct[0], "%.0f" % hop[0], "%.2fx" % (hop[0] / direct[0]),
                     "%.2f ms" % (direct[1] * 1e3), "%.2f ms" % (hop[1] * 1e3),
                     "%.2f ms" % (direct[2] * 1e3), "%.2f ms" % (hop[2] * 1e3), "%d / %d" % (direct[3], hop[3]),
                     "%.0f%% of a core" % (hop[4] * 100)))
    uvicorn_, waitress = [(results[(front, "direct")][0], results[(front, "hop")][0]) for front in FRONTS]
    rows.append(("uvicorn / waitress", "%.2fx" % (uvicorn_[0] / waitress[0]), "%.2fx" % (uvicorn_[1] / waitress[1]),
                 "", "", "", "", "", "", ""))
    print_table(rows)
    print()
    print_table([("target (through the hop)", "measured", "met")] + [
        (name, "%.3fx" % ratio, "yes" if ratio >= floor else "no") for name, ratio, floor in [
            ("uvicorn >= 0.5x its direct throughput", uvicorn_[1] / uvicorn_[0], 0.5),
            ("uvicorn >= 1.0x the waitress front's", uvicorn_[1] / waitress[1], 1.0)]])


if __name__ == "__main__":
    main()
