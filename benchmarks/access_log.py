"""
What the access log costs: ``asgiref serve`` logging one line per request
(``--log-level INFO``, the default, to a file) against the same server with
``--log-level WARNING``, in one run.

Two applications from hello_app.py: one that sets Content-Length and one
that leaves it to the server (which can work it out from a one-item list;
a response without it would go out chunked and close its connection).
Load comes from wrk, as in http_bridge.py: the two servers are measured
in turns (three each), and each one's best rate kept. On a machine shared
with other work the rates swing; the server's CPU time per request (user
and system, from /proc, median of the runs) is the steadier measure of
what the log adds.

    python benchmarks/access_log.py [--seconds 5] [--connections 16] [--runs 3]

Needs Linux, wrk (apt-get install wrk) and waitress (pip install ".[serve]").
"""
from __future__ import print_function

import argparse
import sys
import tempfile

from cpu_time import cpu_seconds
from http_bridge import THREADS, free_port, load, start
from tables import print_table

APPLICATIONS = [("Content-Length set", "hello_app:application"),
                ("no Content-Length", "hello_app:unsized_application")]
LEVELS = ("WARNING", "INFO")


def serve(application, level, port, log):
    """``asgiref serve application`` on ``port``, its log written to the open file ``log``."""
    arguments = [sys.executable, "-m", "asgiref", "serve", application, "--port", str(port),
                 "--threads", str(THREADS), "--log-level", level]
    return start("%s at %s" % (application, level), port, arguments, stderr=log)


def measure(server, port, connections, seconds):
    """One wrk run: (requests per second, p99, server CPU microseconds per request)."""
    before = sum(cpu_seconds(server.pid))
    rate, _, p99 = load(port, connections, seconds)
    return rate, p99, (sum(cpu_seconds(server.pid)) - before) / (rate * seconds) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--runs", type=int, default=3, help="runs of each server, in turns")
    arguments = parser.parse_args()
    rows = [("application", "WARNING req/s", "INFO req/s", "ratio", "CPU/req WARNING", "CPU/req INFO",
             "CPU ratio", "log lines")]
    for name, application in APPLICATIONS:
        runs = dict((level, []) for level in LEVELS)
        servers = {}
        logs = {}
        try:
            for level in LEVELS:
                logs[level] = tempfile.TemporaryFile()
                port = free_port()
                servers[level] = (serve(application, level, port, logs[level]), port)
            for level in LEVELS:
                load(servers[level][1], arguments.connections, 1)  # warm up
            for _ in range(arguments.runs):
                for level in LEVELS:
                    process, port = servers[level]
                    runs[level].append(measure(process, port, arguments.connections, arguments.seconds))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()
        logs["INFO"].seek(0)
        lines = sum(1 for line in logs["INFO"] if b"asgiref.access" in line)
        for log in logs.values():
            log.close()
        best = dict((level, max(run[0] for run in runs[level])) for level in LEVELS)
        cpu = dict((level, sorted(run[2] for run in runs[level])[len(runs[level]) // 2]) for level in LEVELS)
        rows.append((name, "%.0f" % best["WARNING"], "%.0f" % best["INFO"], "%.2fx" % (best["INFO"] / best["WARNING"]),
                     "%.0f us" % cpu["WARNING"], "%.0f us" % cpu["INFO"], "%.2fx" % (cpu["INFO"] / cpu["WARNING"]),
                     str(lines)))
    print("Python %s, asgiref serve with %d threads, wrk %d connections on loopback, %d runs of %ds each"
          % (sys.version.split()[0], THREADS, arguments.connections, arguments.runs, arguments.seconds))
    print_table(rows)


if __name__ == "__main__":
    main()
