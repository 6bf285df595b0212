"""
The bridge under slow, large and hostile traffic, side by side with waitress
serving the same application directly, in one run.

Both sides serve benchmarks/hostile_app.py with waitress and 8 threads; the
bridge is ``asgiref serve hostile_app:application`` (the in-memory layer,
4 worker threads). Every server is fresh for its measurement and is a
separate process; memory is its resident set, sampled from /proc every 20 ms
(growth: the highest sample above the one taken before the load).

- 300 POSTs of 5 MB to a view that does not read its body, 8 at a time;
- a download at 1 MB/s (``--download-mb``, 500 MB by default) while two
  other clients make requests, run for both sides at once and alongside
  everything below, so the run takes about as long as the download;
- the latency of plain GETs, one after another for ``--seconds``, while
  8 clients send 50 MB bodies to the view that does not read them;
- 10 requests whose application raises SystemExit, then 20 plain ones;
- 100 waves of 32 concurrent requests in-process: the application called
  directly, and through both adapters over an in-memory layer;
- a response the application cuts off mid-stream: what the client sees.

    python benchmarks/hostile.py [--download-mb 500] [--seconds 10]

Needs Linux and waitress (pip install ".[serve]").
"""
from __future__ import print_function

import argparse
import io
import os
import re
import sys
import threading
import time

from six.moves import http_client

from http_bridge import free_port, start
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THREADS = 8
MB = 1024 * 1024
KINDS = ("direct", "bridge")


def command(kind, port):
    if kind == "direct":
        return [sys.executable, "hostile_app.py", str(port), str(THREADS)]
    return [sys.executable, "-m", "asgiref", "serve", "hostile_app:application", "--port", str(port),
            "--threads", str(THREADS), "--log-level", "CRITICAL"]


class Server(object):
    """A fresh server of ``kind`` and a sampler of its resident set."""

    def __init__(self, kind):
        self.port = free_port()
        self.process = start(kind, self.port, command(kind, self.port))
        request(self.port, "GET", "/")
        self.baseline = self.rss()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample)
        self._sampler.daemon = True
        self._sampler.start()

    def rss(self):
        with open("/proc/%d/status" % self.process.pid) as status:
            return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) * 1024

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss())

    def growth(self):
        return self.peak - self.baseline

    def stop(self):
        self._stop.set()
        self._sampler.join()
        self.process.terminate()
        self.process.wait()


def request(port, method, path, body=None, timeout=120):
    """``(status, body)``; raises if the connection fails before the body's end."""
    connection = http_client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def in_threads(count, function):
    threads = [threading.Thread(target=function) for _ in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    return threads


def unread_uploads(kind):
    """300 x 5 MB POSTs to the view that does not read them, 8 at a time: (RSS growth, non-200)."""
    server = Server(kind)
    body = b"u" * (5 * MB)
    left = list(range(300))
    failures = []

    def client():
        while True:
            try:
                left.pop()
            except IndexError:
                return
            try:
                if request(server.port, "POST", "/upload", body)[0] != 200:
                    failures.append(1)
            except (IOError, http_client.HTTPException):
                failures.append(1)

    try:
        for thread in in_threads(8, client):
            thread.join()
        return server.growth(), len(failures)
    finally:
        server.stop()


def slow_download(kind, megabytes, results):
    """A download at 1 MB/s while two clients make requests: results[kind] = (RSS growth, complete, others)."""
    server = Server(kind)
    done = threading.Event()
    others = []

    def other_client():
        while not done.is_set():
            try:
                others.append(request(server.port, "GET", "/")[0])
            except (IOError, http_client.HTTPException):
                others.append(None)
            time.sleep(0.05)

    try:
        clients = in_threads(2, other_client)
        connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        connection.request("GET", "/download?mb=%d" % megabytes)
        response = connection.getresponse()
        started = time.time()
        received = 0
        while True:
            data = response.read(64 * 1024)
            if not data:
                break
            received += len(data)
            # Paced to 1 MB/s on average, as a slow client reads.
            pause = started + received / float(MB) - time.time()
            if pause > 0:
                time.sleep(pause)
        connection.close()
        done.set()
        for thread in clients:
            thread.join()
        ok = sum(1 for status in others if status == 200)
        results[kind] = (server.growth(), received == megabytes * MB, "%d of %d" % (ok, len(others)))
    finally:
        done.set()
        server.stop()


def latency_under_uploads(kind, seconds):
    """Plain GETs one after another while 8 clients send 50 MB bodies that are not read: (p50, p99, non-200)."""
    server = Server(kind)
    body = b"b" * (50 * MB)
    done = threading.Event()
    failures = []

    def uploader():
        while not done.is_set():
            try:
                request(server.port, "POST", "/upload", body)
            except (IOError, http_client.HTTPException):
                pass

    try:
        uploaders = in_threads(8, uploader)
        time.sleep(1)
        latencies = []
        finish = time.time() + seconds
        while time.time() < finish:
            began = time.time()
            try:
                status = request(server.port, "GET", "/", timeout=60)[0]
            except (IOError, http_client.HTTPException):
                status = None
            latencies.append(time.time() - began)
            if status != 200:
                failures.append(status)
        done.set()
        for thread in uploaders:
            thread.join()
        latencies.sort()
        return (latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], len(failures),
                len(latencies))
    finally:
        server.stop()


def after_system_exit(kind):
    """10 requests that raise SystemExit, then 20 plain ones: how many plain ones got 200."""
    server = Server(kind)
    try:
        for _ in range(10):
            try:
                request(server.port, "GET", "/exit", timeout=10)
            except (IOError, http_client.HTTPException):
                pass
        answered = 0
        for _ in range(20):
            try:
                answered += request(server.port, "GET", "/", timeout=10)[0] == 200
            except (IOError, http_client.HTTPException):
                pass
        return answered
    finally:
        server.stop()


def cut_off(kind):
    """What the client sees of a response cut off mid-stream."""
    server = Server(kind)
    try:
        status, body = request(server.port, "GET", "/cut", timeout=30)
        return "complete body (%d, %d bytes)" % (status, len(body))
    except (IOError, http_client.HTTPException) as error:
        return "error (%s)" % type(error).__name__
    finally:
        server.stop()


def waves(kind):
    """100 waves of 32 concurrent requests in-process: how many got no 2xx."""
    sys.path.insert(0, ROOT)
    from hostile_app import application
    from asgiref.bridge import CHANNEL_CAPACITY
    from asgiref.inmemory import ChannelLayer
    from asgiref.wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter
    served, worker = application, None
    if kind == "bridge":
        layer = ChannelLayer(capacity=100, receive_timeout=1, channel_capacity=CHANNEL_CAPACITY)
        worker = AsgiToWsgiAdapter(application, layer)
        worker.start(4)
        served = WsgiToAsgiAdapter(layer, response_timeout=10)
    statuses = []

    def call():
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
        started = []
        result = served(environ, lambda status, headers, exc_info=None: started.append(status))
        b"".join(result)
        if hasattr(result, "close"):
            result.close()
        statuses.append(started[-1])

    try:
        for _ in range(100):
            for thread in in_threads(32, call):
                thread.join()
    finally:
        if worker is not None:
            worker.stop()
    return sum(1 for status in statuses if not status.startswith("2")) + 3200 - len(statuses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--download-mb", type=int, default=500, help="size of the slow download")
    parser.add_argument("--seconds", type=int, default=10, help="length of the latency measurement")
    arguments = parser.parse_args()
    os.chdir(HERE)
    os.environ["PYTHONPATH"] = ROOT
    started = time.time()
    downloads = {}
    downloaders = [threading.Thread(target=slow_download, args=(kind, arguments.download_mb, downloads))
                   for kind in KINDS]
    for thread in downloaders:
        thread.start()
    results = {}
    for kind in KINDS:
        results[kind] = {
            "uploads": unread_uploads(kind),
            "latency": latency_under_uploads(kind, arguments.seconds),
            "exit": after_system_exit(kind),
            "cut": cut_off(kind),
            "waves": waves(kind),
        }
    for thread in downloaders:
        thread.join()

    print("Python %s, waitress with %d threads on both sides; %.0f s in all, on a shared 2-core machine"
          % (sys.version.split()[0], THREADS, time.time() - started))
    direct, bridge = results["direct"], results["bridge"]
    rows = [("measurement", "direct", "bridge", "target")]
    rows.append(("300 x 5 MB unread POSTs: RSS growth", "%.1f MB" % (direct["uploads"][0] / 1e6),
                 "%.1f MB" % (bridge["uploads"][0] / 1e6), "<= 2x direct, < 64 MB"))
    rows.append(("300 x 5 MB unread POSTs: non-200", str(direct["uploads"][1]), str(bridge["uploads"][1]), "0"))
    rows.append(("%d MB download at 1 MB/s: RSS growth" % arguments.download_mb,
                 "%.1f MB" % (downloads["direct"][0] / 1e6), "%.1f MB" % (downloads["bridge"][0] / 1e6),
                 "<= 2x direct, < 64 MB"))
    rows.append(("the download complete", str(downloads["direct"][1]), str(downloads["bridge"][1]), "True"))
    rows.append(("others' requests meanwhile: 200", downloads["direct"][2], downloads["bridge"][2], "all"))
    for label, index, unit in (("p50", 0, 1e3), ("p99", 1, 1e3)):
        rows.append(("GET under 8 x 50 MB unread uploads: %s" % label, "%.1f ms" % (direct["latency"][index] * unit),
                     "%.1f ms" % (bridge["latency"][index] * unit), "p99 < 100 ms" if label == "p99" else ""))
    rows.append(("GET under 8 x 50 MB unread uploads: non-200", "%d of %d" % direct["latency"][2:],
                 "%d of %d" % bridge["latency"][2:], "0"))
    rows.append(("answered after 10 x SystemExit", "%d of 20" % direct["exit"], "%d of 20" % bridge["exit"], "all"))
    rows.append(("100 waves x 32 in-process: non-2xx", str(direct["waves"]), str(bridge["waves"]), "0"))
    rows.append(("response cut off mid-stream", direct["cut"], bridge["cut"], "an error"))
    print_table(rows)


if __name__ == "__main__":
    main()
