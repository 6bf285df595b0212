"""
The whole WSGI -> ASGI -> WSGI bridge against the same application on
waitress alone, in one run.

Both serve benchmarks/hello_app.py with waitress and the same thread count;
the bridge is ``asgiref serve hello_app:application`` (the in-memory layer,
WsgiToAsgiAdapter in front, AsgiToWsgiAdapter worker threads behind).
Load comes from wrk, a separate process, on loopback, for a bounded time
at each concurrency level; each side is measured twice, interleaved, and
its better run kept. Then a 200 MB upload goes through a fresh bridge while
its peak memory is read from /proc.

    python benchmarks/http_bridge.py [--seconds 5] [--connections 8,16,32]

Needs Linux, wrk (apt-get install wrk) and waitress (pip install ".[serve]").
"""
from __future__ import print_function

import argparse
import os
import re
import socket
import subprocess
import sys
import time

from six.moves import http_client

from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THREADS = 8
UPLOAD = 200 * 1024 * 1024


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def command(kind, port):
    """The command line of the ``direct`` or the ``bridge`` server on ``port``."""
    if kind == "direct":
        return [sys.executable, "hello_app.py", str(port), str(THREADS)]
    return [sys.executable, "-m", "asgiref", "serve", "hello_app:application", "--port", str(port),
            "--threads", str(THREADS), "--log-level", "WARNING"]


def start(kind, port, arguments=None, stderr=subprocess.DEVNULL):
    """
    Run a server (``arguments``, or the ``kind`` server's command), its stderr
    to ``stderr``, and wait until ``port`` answers.
    """
    # This checkout first, then whatever PYTHONPATH already holds.
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(arguments or command(kind, port), cwd=HERE, env=environment,
                               stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except socket.error:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the %s server did not start" % kind)


def seconds(text):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def load(port, connections, duration, path="/"):
    """wrk against ``path`` on ``port``: (requests per second, p50, p99 in seconds); exits if any request failed."""
    rate, p50, p99, failed, output = wrk(port, connections, duration, path)
    if failed:
        raise SystemExit("wrk saw errors:\n" + output)
    return rate, p50, p99


def wrk(port, connections, duration, path="/"):
    """
    wrk against ``path`` on ``port``: (requests per second, p50, p99 in
    seconds, failed requests, wrk's output). Failed: answered other than 2xx
    or 3xx, or a socket error.
    """
    output = subprocess.check_output([
        "wrk", "-t1", "-c%d" % connections, "-d%ds" % duration, "--latency", "http://127.0.0.1:%d%s" % (port, path),
    ]).decode("ascii")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    # The "Latency Distribution" lines: "     50%    1.52ms".
    p50 = seconds(re.search(r"^\s+50%\s+(\S+)$", output, re.MULTILINE).group(1))
    p99 = seconds(re.search(r"^\s+99%\s+(\S+)$", output, re.MULTILINE).group(1))
    # "Non-2xx or 3xx responses: 12", "Socket errors: connect 0, read 3, write 0, timeout 0".
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:([^\n]*)", output)
    failed = int(non_2xx.group(1)) if non_2xx else 0
    failed += sum(int(count) for count in re.findall(r"\d+", socket_errors.group(1))) if socket_errors else 0
    return rate, p50, p99, failed, output


def memory(pid, field):
    with open("/proc/%d/status" % pid) as status:
        return int(re.search(r"%s:\s+(\d+) kB" % field, status.read()).group(1)) * 1024


def upload_through_bridge():
    """Stream 200 MB through a fresh bridge: (idle RSS, peak RSS, seconds)."""
    port = free_port()
    process = start("bridge", port)
    try:
        time.sleep(1)
        idle = memory(process.pid, "VmRSS")
        connection = http_client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.time()
        connection.putrequest("POST", "/upload")
        connection.putheader("Content-Length", str(UPLOAD))
        connection.endheaders()
        block = b"x" * (1024 * 1024)
        for _ in range(UPLOAD // len(block)):
            connection.send(block)
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.time() - started
        if response.status != 200 or int(answer) != UPLOAD:
            raise SystemExit("the upload failed: %s %r" % (response.status, answer[:200]))
        return idle, memory(process.pid, "VmHWM"), elapsed
    finally:
        process.terminate()
        process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", default="8,16,32", help="concurrency levels, comma separated")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.connections.split(",")]
    ports = {"direct": free_port(), "bridge": free_port()}
    servers = dict((kind, start(kind, port)) for kind, port in ports.items())
    try:
        for kind in servers:
            load(ports[kind], 8, 1)  # warm up
        results = {}
        for connections in levels:
            for _ in range(2):
                for kind in ("direct", "bridge"):
                    run = load(ports[kind], connections, arguments.seconds)
                    best = results.get((kind, connections))
                    if best is None or run[0] > best[0]:
                        results[(kind, connections)] = run
    finally:
        for process in servers.values():
            process.terminate()
            process.wait()
    idle, peak, elapsed = upload_through_bridge()

    print("Python %s, waitress with %d threads on both sides, wrk on loopback, %ds per run"
          % (sys.version.split()[0], THREADS, arguments.seconds))
    rows = [("connections", "direct req/s", "bridge req/s", "ratio", "p50 direct", "p50 bridge",
             "p99 direct", "p99 bridge", "p99 ratio")]
    for connections in levels:
        direct, bridge = results[("direct", connections)], results[("bridge", connections)]
        rows.append((str(connections), "%.0f" % direct[0], "%.0f" % bridge[0], "%.2fx" % (bridge[0] / direct[0]),
                     "%.2f ms" % (direct[1] * 1e3), "%.2f ms" % (bridge[1] * 1e3),
                     "%.2f ms" % (direct[2] * 1e3), "%.2f ms" % (bridge[2] * 1e3), "%.2fx" % (bridge[2] / direct[2])))
    print_table(rows)
    print()
    print_table([("200 MB upload through the bridge", "value"),
                 ("idle RSS", "%.1f MB" % (idle / 1e6)),
                 ("peak RSS (VmHWM)", "%.1f MB" % (peak / 1e6)),
                 ("peak above idle", "%.1f MB" % ((peak - idle) / 1e6)),
                 ("time", "%.1f s (%.0f MB/s)" % (elapsed, UPLOAD / 1e6 / elapsed))])


if __name__ == "__main__":
    main()
