"""
What ``--metrics`` costs: ``asgiref serve`` (the in-memory layer) with and
without it, side by side, in one run, on each HTTP server.

Both serve benchmarks/hello_app.py; the metered one also counts every
request, layer call and worker thread in its Prometheus registry (and
serves them on a port nobody scrapes during the runs: a scrape every few
seconds costs nothing measurable). Load comes from wrk on loopback, for a
bounded time at each concurrency level; each side is measured three times,
interleaved, and its best run kept.

    python benchmarks/metrics_cost.py [--seconds 5] [--connections 8,32] [--servers waitress,uvicorn]

Needs Linux, wrk (apt-get install wrk), the serve and metrics extras
(pip install ".[serve,metrics]").
"""
from __future__ import print_function

import argparse
import sys

from http_bridge import THREADS, free_port, load, start
from tables import print_table

RUNS = 3


def command(server, port, metered):
    arguments = [sys.executable, "-m", "asgiref", "serve", "hello_app:application", "--port", str(port),
                 "--threads", str(THREADS), "--server", server, "--log-level", "WARNING"]
    if metered:
        arguments += ["--metrics", "127.0.0.1:%d" % free_port()]
    return arguments


def measure(server, levels, duration):
    """{(metered, connections): (req/s, p50, p99)}, the best of RUNS runs each."""
    ports = {False: free_port(), True: free_port()}
    processes = dict((metered, start(server, port, command(server, port, metered))) for metered, port in ports.items())
    results = {}
    try:
        for port in ports.values():
            load(port, 8, 1)  # warm up
        for connections in levels:
            for _ in range(RUNS):
                for metered in (False, True):
                    run = load(ports[metered], connections, duration)
                    best = results.get((metered, connections))
                    if best is None or run[0] > best[0]:
                        results[(metered, connections)] = run
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", default="8,32", help="concurrency levels, comma separated")
    parser.add_argument("--servers", default="waitress,uvicorn", help="HTTP servers, comma separated")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.connections.split(",")]
    rows = [("server", "connections", "req/s without", "req/s with --metrics", "ratio", "p99 without",
             "p99 with", "p99 ratio")]
    for server in arguments.servers.split(","):
        results = measure(server, levels, arguments.seconds)
        for connections in levels:
            plain, metered = results[(False, connections)], results[(True, connections)]
            rows.append((server, str(connections), "%.0f" % plain[0], "%.0f" % metered[0],
                         "%.3fx" % (metered[0] / plain[0]), "%.2f ms" % (plain[2] * 1e3),
                         "%.2f ms" % (metered[2] * 1e3), "%.2fx" % (metered[2] / plain[2])))
    print("Python %s, asgiref serve hello_app:application (in-memory layer, %d worker threads, waitress with %d "
          "threads), wrk on loopback, %ds per run, best of %d interleaved runs"
          % (sys.version.split()[0], 4, THREADS, arguments.seconds, RUNS))
    print_table(rows)


if __name__ == "__main__":
    main()
