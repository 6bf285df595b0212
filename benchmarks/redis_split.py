"""
Split processes over Redis, end to end: ``asgiref interface`` + ``asgiref
worker`` over this package's Redis layer (this Python) against Daphne 1.4.2
+ Channels 1.1.8 ``runworker`` over asgi_redis 1.4.3 (Python 3.6), one run.

    python benchmarks/redis_split.py [--seconds 10] [--connections 16] [--python36 PATH]

Both pairs use one local redis-server, started here on a free port, and
their default threads (the interface 8, the worker 4; Daphne one reactor,
runworker one thread). Two applications: the hello WSGI app
(benchmarks/hello_app.py; on Channels, a bare ``http.request`` consumer
answering the same bytes) and a trivial Django view
(benchmarks/redis_split_site: Django 2.2 here, 1.11 under Channels). Load
comes from wrk on loopback, the sides interleaved, each measured twice and
its better run kept.

Needs Linux, wrk, redis-server, and here the ``serve`` and ``redis`` extras
and Django 2.2 (``pip install ".[serve,redis]" "django>=2.2,<2.3"``, and on
3.12+ setuptools and legacy-cgi). Daphne's side is a virtualenv built once
under the cache directory.
"""
from __future__ import print_function

import argparse
import os
import socket
import subprocess
import sys
import time

from six.moves import http_client

from http_bridge import free_port, load
from redis_layer import add_sides_arguments, cached_python, python36, start_redis
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
DAPHNE_SIDE = ["daphne==1.4.2", "channels==1.1.8", "django>=1.11,<2", "asgi_redis==1.4.3"]
APPLICATIONS = [
    # (name, this package's WSGI application, Channels' route)
    ("hello WSGI app", "hello_app:application", "hello"),
    ("trivial Django view", "redis_split_site.wsgi:application", "views"),
]


def start(commands, environment, port):
    """Start ``commands`` (the first one listens on ``port``); wait until it answers HTTP."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(environment.pop("path")), **environment)
    processes = [subprocess.Popen(command, cwd=HERE, env=environment, stdout=open(os.devnull, "w"),
                                  stderr=subprocess.STDOUT) for command in commands]
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http_client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return processes
        except (socket.error, http_client.HTTPException):
            pass
        time.sleep(0.2)
    stop(processes)
    raise SystemExit("%s did not answer on port %d" % (commands[0], port))


def stop(processes):
    """Stop the HTTP side first: its requests in flight are answered while the worker still runs."""
    for process in processes:
        process.terminate()
        process.wait()


def ours(tree, application, redis_url, port):
    layer = ["--layer", redis_url, "--log-level", "WARNING"]
    return start([
        [sys.executable, "-m", "asgiref", "interface", "--port", str(port)] + layer,
        [sys.executable, "-m", "asgiref", "worker", application] + layer,
    ], {"path": [tree, HERE]}, port)


def daphne(python, route, redis_url, port):
    scripts = os.path.dirname(python)
    return start([
        [os.path.join(scripts, "daphne"), "-b", "127.0.0.1", "-p", str(port), "redis_split_site.asgi:channel_layer"],
        [python, "-m", "django", "runworker", "--settings", "redis_split_site.settings"],
    ], {"path": [HERE], "CHANNELS": "1", "ROUTE": route, "REDIS_URL": redis_url}, port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    add_sides_arguments(parser, "Daphne, Channels and asgi_redis")
    arguments = parser.parse_args()
    old_python = cached_python("daphne-channels-asgi_redis", python36(arguments.python36), DAPHNE_SIDE)
    redis, redis_port = start_redis()
    redis_url = "redis://127.0.0.1:%d/0" % redis_port
    results = {}
    try:
        for name, application, route in APPLICATIONS:
            ports = {"daphne": free_port(), "ours": free_port()}
            sides = {"daphne": daphne(old_python, route, redis_url, ports["daphne"]),
                     "ours": ours(arguments.tree, application, redis_url, ports["ours"])}
            try:
                for side in sides:
                    load(ports[side], arguments.connections, 2)  # warm up
                for _ in range(2):
                    for side in ("daphne", "ours"):
                        run = load(ports[side], arguments.connections, arguments.seconds)
                        best = results.get((name, side))
                        if best is None or run[0] > best[0]:
                            results[(name, side)] = run
            finally:
                for processes in sides.values():
                    stop(processes)
    finally:
        redis.terminate()
        redis.wait()
    print("Python %s here, 3.6 for Daphne; one local redis-server; wrk -c%d, %ds per run, best of two"
          % (sys.version.split()[0], arguments.connections, arguments.seconds))
    rows = [("application", "Daphne+runworker req/s", "this package req/s", "ratio",
             "p99 Daphne", "p99 this package")]
    for name, _, _ in APPLICATIONS:
        old, new = results[(name, "daphne")], results[(name, "ours")]
        rows.append((name, "%.0f" % old[0], "%.0f" % new[0], "%.2fx" % (new[0] / old[0]),
                     "%.1f ms" % (old[2] * 1e3), "%.1f ms" % (new[2] * 1e3)))
    print_table(rows)


if __name__ == "__main__":
    main()
