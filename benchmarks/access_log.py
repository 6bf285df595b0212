"""
What the access log costs: ``asgiref serve`` logging one line per request
(``--log-level INFO``, the default, to a file) against the same server with
``--log-level WARNING``, in one run.

Two applications from hello_app.py: one that sets Content-Length and one
that leaves it to the server (which can work it out from a one-item list;
a response without it would go out chunked and close its connection).
Load comes from wrk, as in http_bridge.py: each server is measured twice,
interleaved, and its better run kept.

    python benchmarks/access_log.py [--seconds 5] [--connections 16]

Needs Linux, wrk (apt-get install wrk) and waitress (pip install ".[serve]").
"""
from __future__ import print_function

import argparse
import sys
import tempfile

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    arguments = parser.parse_args()
    rows = [("application", "WARNING req/s", "INFO req/s", "ratio", "p99 WARNING", "p99 INFO", "log lines")]
    for name, application in APPLICATIONS:
        results = {}
        servers = {}
        logs = {}
        try:
            for level in LEVELS:
                logs[level] = tempfile.TemporaryFile()
                port = free_port()
                servers[level] = (serve(application, level, port, logs[level]), port)
            for level in LEVELS:
                load(servers[level][1], arguments.connections, 1)  # warm up
            for _ in range(2):
                for level in LEVELS:
                    run = load(servers[level][1], arguments.connections, arguments.seconds)
                    if level not in results or run[0] > results[level][0]:
                        results[level] = run
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()
        logs["INFO"].seek(0)
        lines = sum(1 for line in logs["INFO"] if b"asgiref.access" in line)
        for log in logs.values():
            log.close()
        quiet, logged = results["WARNING"], results["INFO"]
        rows.append((name, "%.0f" % quiet[0], "%.0f" % logged[0], "%.2fx" % (logged[0] / quiet[0]),
                     "%.2f ms" % (quiet[2] * 1e3), "%.2f ms" % (logged[2] * 1e3), str(lines)))
    print("Python %s, asgiref serve with %d threads, wrk %d connections on loopback, %ds per run"
          % (sys.version.split()[0], THREADS, arguments.connections, arguments.seconds))
    print_table(rows)


if __name__ == "__main__":
    main()
