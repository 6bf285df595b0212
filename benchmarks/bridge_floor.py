"""
How near waitress alone can any bridge through worker threads come? The
floor under the 0.5x target of http_bridge.py, one part added at a time.

Every server is waitress with the same threads serving hello_app.py, in one
run, measured as http_bridge.py measures (wrk, best of two interleaved runs):

direct     waitress calls the application itself.
handoff    each request goes to one of 4 worker threads (asgiref serve's
           default) and its waitress thread waits for the answer, through
           the standard library's C queues: the least that worker threads cost.
layer      the same handoff through asgiref's in-memory layer: a tiny
           message each way, each waitress thread receiving on a reply
           channel of its own.
messages   as layer, but the messages are the real http.request and response
           made by asgiref.wsgi.mapping; no checks, no streaming, no
           timeouts.
bridge     asgiref serve, all of it.

    python benchmarks/bridge_floor.py [--seconds 5] [--connections 32]

Needs Python 3.7+, Linux, wrk and waitress, as http_bridge.py does.
"""
from __future__ import print_function

import argparse
import io
import itertools
import queue
import sys
import threading

from hello_app import application, serve_directly
from http_bridge import THREADS, free_port, load, start
from tables import print_table

WORKERS = 4
MODES = ("direct", "handoff", "layer", "messages", "bridge")


def run_application(environ):
    """Call the application as a WSGI server would: ``(status, headers, content)``."""
    started = []
    body = application(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    try:
        content = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    status, headers = started[0]
    return status, headers, content


def start_workers(work):
    for _ in range(WORKERS):
        threading.Thread(target=work, daemon=True).start()


def handoff():
    requests = queue.SimpleQueue()

    def work():
        while True:
            environ, answer = requests.get()
            answer.put(run_application(environ))

    def front(environ, start_response):
        answer = queue.SimpleQueue()
        requests.put((environ, answer))
        status, headers, content = answer.get()
        start_response(status, headers)
        return [content]

    start_workers(work)
    return front


def through_layer(make_request, serve_request, respond):
    """
    A front WSGI application and its workers, handing requests over the
    in-memory layer: ``make_request(environ)`` makes the http.request message
    (``reply_channel`` added here), ``serve_request(message)`` makes the
    response message in a worker, ``respond(message, start_response)`` ends
    the request. Each waitress thread receives on a reply channel of its
    own, as the bridge's requests do.
    """
    from asgiref.inmemory import ChannelLayer
    layer = ChannelLayer(capacity=100)
    serial = itertools.count()
    local = threading.local()

    def work():
        while True:
            _, message = layer.receive(["http.request"], block=True)
            if message is not None:
                layer.send(message["reply_channel"], serve_request(message))

    def front(environ, start_response):
        message = make_request(environ)
        if not hasattr(local, "reply_channel"):
            local.reply_channel = "floor.reply%d" % next(serial)
        message["reply_channel"] = local.reply_channel
        layer.send("http.request", message)
        response = None
        while response is None:
            _, response = layer.receive([local.reply_channel], block=True)
        return respond(response, start_response)

    start_workers(work)
    return front


def tiny_messages():
    # Environs and answers stay in this dict; only their numbers travel.
    parked = {}
    serial = itertools.count()

    def make_request(environ):
        number = next(serial)
        parked[number] = environ
        return {"number": number}

    def serve_request(message):
        number = message["number"]
        parked[number] = run_application(parked[number])
        return {"number": number}

    def respond(message, start_response):
        status, headers, content = parked.pop(message["number"])
        start_response(status, headers)
        return [content]

    return through_layer(make_request, serve_request, respond)


def real_messages():
    from asgiref.wsgi.mapping import (
        headers_from_wsgi, headers_to_wsgi, request_from_environ, status_code, status_line, wsgi_environ)

    def make_request(environ):
        message = request_from_environ(environ)
        message["body"] = environ["wsgi.input"].read()
        return message

    def serve_request(message):
        environ = wsgi_environ(message, io.BytesIO(message["body"]), sys.stderr)
        status, headers, content = run_application(environ)
        return {"status": status_code(status), "headers": headers_from_wsgi(headers), "content": content}

    def respond(message, start_response):
        start_response(status_line(message["status"]), headers_to_wsgi(message["headers"]))
        return [message["content"]]

    return through_layer(make_request, serve_request, respond)


SERVERS = {
    "handoff": handoff,
    "layer": tiny_messages,
    "messages": real_messages,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--serve", nargs=2, metavar=("MODE", "PORT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        mode, port = arguments.serve
        serve_directly(SERVERS[mode](), int(port), THREADS)
        return

    ports = dict((mode, free_port()) for mode in MODES)
    servers = {}
    try:
        for mode in MODES:
            own = None if mode in ("direct", "bridge") else [
                sys.executable, "bridge_floor.py", "--serve", mode, str(ports[mode])]
            servers[mode] = start(mode, ports[mode], own)
            load(ports[mode], 8, 1)  # warm up
        best = {}
        for _ in range(2):
            for mode in MODES:
                run = load(ports[mode], arguments.connections, arguments.seconds)
                if mode not in best or run[0] > best[mode][0]:
                    best[mode] = run
    finally:
        for process in servers.values():
            process.terminate()
            process.wait()

    print("Python %s, waitress with %d threads, %d connections, %ds per run"
          % (sys.version.split()[0], THREADS, arguments.connections, arguments.seconds))
    rows = [("server", "req/s", "of direct", "p50", "p99")]
    for mode in MODES:
        rate, p50, p99 = best[mode]
        rows.append((mode, "%.0f" % rate, "%.2fx" % (rate / best["direct"][0]),
                     "%.2f ms" % (p50 * 1e3), "%.2f ms" % (p99 * 1e3)))
    print_table(rows)


if __name__ == "__main__":
    main()
