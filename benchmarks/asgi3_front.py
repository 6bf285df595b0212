"""
The ASGI 3 front against the servers users compare it with, in one run on
the same uvicorn.

HTTP (wrk, a separate process, on loopback; each side twice, interleaved,
the better run kept), the plain WSGI app (hello_app.py) and a Django 2.2
view (tests/apps/django_site, /whoami/):

* ``asgiref serve`` on the ASGI 3 front: uvicorn -> ChannelLayerApplication
  -> in-memory layer -> AsgiToWsgiAdapter worker threads;
* uvicorn + a2wsgi: uvicorn -> a2wsgi's WSGIMiddleware thread pool;
* waitress direct: waitress alone.

WebSocket echo (ws_load.py, a separate process; CONNECTIONS clients each
sending a message and waiting for its echo, in a loop; each side three
times, interleaved, the best run kept):

* floor: uvicorn running a native ASGI 3 echo application;
* in-process: ``asgiref serve --consumers asgi3_apps:routes`` (consumers in
  worker threads on the in-memory layer), and the same with
  ``--consumers-on-loop`` (consumers on uvicorn's event loop);
* Redis: ``asgiref interface --layer redis://...`` and the consumers in
  two other processes, ``asgiref worker --consumers asgi3_apps:routes``
  with two threads each, over the Redis layer (a throwaway redis-server).

    python benchmarks/asgi3_front.py [--seconds 5] [--connections 16]

Needs Linux, wrk, redis-server, and pip install ".[serve,redis]" a2wsgi
"django>=2.2,<2.3" (Python 3.9+). Every side runs on the same uvicorn and
so on the same event loop: uvloop, which the serve extra installs, where
it is installed.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import uvicorn

from http_bridge import free_port, load
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THREADS = 8
#: Consumer processes behind the Redis side, two threads each.
REDIS_WORKERS = 2
APPS = {"plain": ("hello_app:application", "/"), "django": ("django_site.wsgi:application", "/whoami/")}


def start(arguments, port=None):
    """Run ``arguments`` (with the repository and tests/apps/ importable); wait until ``port`` answers."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "tests", "apps")]))
    process = subprocess.Popen(arguments, cwd=HERE, env=environment, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while port is not None and time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except socket.error:
            time.sleep(0.05)
    if port is not None:
        process.kill()
        raise SystemExit("%s did not start" % arguments)
    return process


def http_commands(app, port):
    """The command lines of the three HTTP sides serving ``app`` on ``port``."""
    return {
        "asgiref serve": [sys.executable, "-m", "asgiref", "serve", app, "--server", "uvicorn", "--port", str(port),
                          "--workers", str(THREADS), "--log-level", "WARNING", "--connection-limit", "1000"],
        "uvicorn + a2wsgi": [sys.executable, "asgi3_apps.py", "a2wsgi", app, str(port), str(THREADS)],
        "waitress direct": [sys.executable, "-c", "import sys, hello_app, importlib; "
                            "m, _, a = sys.argv[1].partition(':'); "
                            "hello_app.serve_directly(getattr(importlib.import_module(m), a), int(sys.argv[2]), %d)"
                            % THREADS, app, str(port)],
    }


def run_http(app, path, connections, seconds):
    """{side: (req/s, p50, p99)} for ``app``, each side measured twice, interleaved, the better run kept."""
    ports, servers = {}, {}
    try:
        for side, arguments in http_commands(app, 0).items():
            ports[side] = port = free_port()
            servers[side] = start(http_commands(app, port)[side], port)
        for side in servers:
            load(ports[side], connections, 1, path)
        results = {}
        for _ in range(2):
            for side in servers:
                run = load(ports[side], connections, seconds, path)
                if side not in results or run[0] > results[side][0]:
                    results[side] = run
        return results
    finally:
        for process in servers.values():
            process.terminate()
            process.wait()


def ws_rate(port, connections, seconds):
    output = subprocess.check_output([sys.executable, "ws_load.py", "ws://127.0.0.1:%d/" % port, str(connections),
                                      str(seconds)], cwd=HERE)
    return float(output.decode("ascii").strip())


def run_websocket(connections, seconds):
    """{side: messages/s} for the echo, each side measured twice, interleaved, the better run kept."""
    redis_port = free_port()
    directory = tempfile.mkdtemp()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
                              "--dir", directory], stdout=subprocess.DEVNULL)
    redis_url = "redis://127.0.0.1:%d/0" % redis_port
    processes = []
    ports = dict((side, free_port()) for side in ("floor", "in-process", "on-loop", "redis"))
    try:
        time.sleep(0.5)
        processes.append(start([sys.executable, "asgi3_apps.py", "echo", str(ports["floor"])], ports["floor"]))
        processes.append(start([
            sys.executable, "-m", "asgiref", "serve", "--consumers", "asgi3_apps:routes", "--server", "uvicorn",
            "--port", str(ports["in-process"]), "--workers", "2", "--log-level", "WARNING",
            "--connection-limit", "1000"], ports["in-process"]))
        processes.append(start([
            sys.executable, "-m", "asgiref", "serve", "--consumers", "asgi3_apps:routes", "--consumers-on-loop",
            "--server", "uvicorn", "--port", str(ports["on-loop"]), "--log-level", "WARNING",
            "--connection-limit", "1000"], ports["on-loop"]))
        for _ in range(REDIS_WORKERS):
            processes.append(start([
                sys.executable, "-m", "asgiref", "worker", "--consumers", "asgi3_apps:routes", "--layer", redis_url,
                "--workers", "2", "--log-level", "WARNING"]))
        processes.append(start([
            sys.executable, "-m", "asgiref", "interface", "--layer", redis_url, "--server", "uvicorn",
            "--port", str(ports["redis"]), "--log-level", "WARNING", "--connection-limit", "1000"], ports["redis"]))
        for side in ports:
            ws_rate(ports[side], connections, 1)
        results = {}
        for _ in range(3):
            for side in ports:
                results[side] = max(results.get(side, 0), ws_rate(ports[side], connections, seconds))
        return results
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        redis.terminate()
        redis.wait()


def _event_loop():
    """The event loop uvicorn picks here (its default, ``auto``)."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    return "uvloop %s" % uvloop.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    arguments = parser.parse_args()
    http = dict((name, run_http(app, path, arguments.connections, arguments.seconds))
                for name, (app, path) in APPS.items())
    websocket = run_websocket(arguments.connections, arguments.seconds)

    print("Python %s, uvicorn %s on %s, %d worker threads / a2wsgi workers / waitress threads, %d connections, "
          "%ds per run, 2-core machine, load average %.1f at the end" % (
              sys.version.split()[0], uvicorn.__version__, _event_loop(), THREADS, arguments.connections,
              arguments.seconds, os.getloadavg()[0]))
    rows = [("app", "side", "req/s", "vs a2wsgi", "p50", "p99", "p99 vs a2wsgi")]
    for name in APPS:
        reference = http[name]["uvicorn + a2wsgi"]
        for side, (rate, p50, p99) in http[name].items():
            rows.append((name, side, "%.0f" % rate, "%.2fx" % (rate / reference[0]), "%.2f ms" % (p50 * 1e3),
                         "%.2f ms" % (p99 * 1e3), "%.2fx" % (p99 / reference[2])))
    print_table(rows)
    print()
    floor = websocket["floor"]
    names = {"floor": "uvicorn, native ASGI 3 echo (floor)",
             "in-process": "asgiref serve, consumers in worker threads",
             "on-loop": "asgiref serve, consumers on the event loop",
             "redis": "asgiref interface + 2 asgiref worker processes, Redis"}
    print_table([("WebSocket echo", "messages/s", "vs floor")] + [
        (names[side], "%.0f" % rate, "%.2fx" % (rate / floor)) for side, rate in websocket.items()])


if __name__ == "__main__":
    main()
