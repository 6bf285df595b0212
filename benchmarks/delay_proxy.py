"""
A TCP proxy on loopback that delays every chunk by a fixed time in each
direction, as one network hop would: a Redis "in the next rack".

Threads, not an event loop: event-loop timers round sub-millisecond delays
to the loop's clock resolution. Each direction of each connection has a
reader thread, which stamps every chunk with the time it is due, and a
writer thread, which sleeps until then and passes the chunk on: order is
kept within a direction, and connections never wait for one another. The
sleep ends a little early by the kernel's usual lateness in waking a
thread; spinning the rest would hold the GIL from the other connections.

    python benchmarks/delay_proxy.py TARGET_PORT [--delay 0.0005]

serves until interrupted, printing the port it listens on.
"""
from __future__ import print_function

import argparse
import collections
import socket
import threading
import time

clock = getattr(time, "perf_counter", time.time)
#: How late a sleeping thread typically wakes (the kernel's timer slack and
#: the wake-up itself): sleeps are cut short by as much.
LATENESS = 0.00006


class DelayProxy(object):
    """Listens on 127.0.0.1 (``port``) and forwards each connection to ``target_port``, ``delay`` s each way."""

    def __init__(self, target_port, delay=0.0005):
        self.target_port = target_port
        self.delay = delay
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self._closed = False
        _daemon(self._accept)

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except socket.error:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ends = _Ends(client, server)
            _Direction(client, server, self.delay, ends)
            _Direction(server, client, self.delay, ends)

    def close(self):
        """Stop accepting; connections already made end when their ends close."""
        self._closed = True
        self.listener.close()


class _Ends(object):
    """The two sockets of one proxied connection, closed once both directions are over."""

    def __init__(self, *sockets):
        self.sockets = sockets
        self.open_directions = 2
        self.lock = threading.Lock()

    def direction_over(self):
        with self.lock:
            self.open_directions -= 1
            if self.open_directions:
                return
        for end in self.sockets:
            end.close()


class _Direction(object):
    """One direction of one connection: chunks read from ``source`` go to ``destination`` ``delay`` s later."""

    def __init__(self, source, destination, delay, ends):
        self.source = source
        self.destination = destination
        self.delay = delay
        self.ends = ends
        self.due = collections.deque()
        self.ready = threading.Condition()
        _daemon(self._read)
        _daemon(self._write)

    def _read(self):
        while True:
            try:
                data = self.source.recv(65536)
            except socket.error:
                data = b""
            with self.ready:
                self.due.append((clock() + self.delay, data))
                self.ready.notify()
            if not data:
                return

    def _write(self):
        try:
            while True:
                with self.ready:
                    while not self.due:
                        self.ready.wait()
                    due, data = self.due.popleft()
                remaining = due - clock() - LATENESS
                if remaining > 0:
                    time.sleep(remaining)
                if not data:
                    self.destination.shutdown(socket.SHUT_WR)
                    return
                self.destination.sendall(data)
        except socket.error:
            # The other end is gone: so is this direction (its reader sees the close).
            self.source.shutdown(socket.SHUT_RDWR)
        finally:
            self.ends.direction_over()


def _daemon(target):
    thread = threading.Thread(target=target)
    thread.daemon = True
    thread.start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("target_port", type=int, help="the port on 127.0.0.1 to forward to")
    parser.add_argument("--delay", type=float, default=0.0005, help="seconds added in each direction")
    arguments = parser.parse_args()
    proxy = DelayProxy(arguments.target_port, arguments.delay)
    print("forwarding 127.0.0.1:%d to 127.0.0.1:%d, %.2f ms each way"
          % (proxy.port, arguments.target_port, arguments.delay * 1e3), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.close()


if __name__ == "__main__":
    main()
