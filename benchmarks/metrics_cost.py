"""
What ``--metrics`` costs: ``asgiref serve`` (the in-memory layer) with and
without it, side by side, in one run, on each HTTP server.

Both serve benchmarks/hello_app.py; the metered one also counts every
request, layer call and worker thread in its Prometheus registry (and
serves them on a port nobody scrapes during the runs: a scrape every few
seconds costs nothing measurable). Load comes from wrk on loopback, for a
bounded time at each concurrency level; each side is measured ``--runs``
times, interleaved, and its best run kept (on a shared machine the other
runs are slowed by whatever else runs); beside it, the server's user and
system CPU time per request over all the runs, which the machine's load
moves less.
Then, in this process, what the instruments add to one layer call and to
one request through each front, with timeit: a figure the machine's load
barely moves.

With ``--same``, neither side is metered: the ratios then show how far
apart two identical servers measure on this machine. With
``--instructions SECONDS``, each side also runs under valgrind's
callgrind for that long (``--instruction-runs`` times, in turns), and the
table adds the machine instructions the whole server process executes per
request: a count other work on the machine does not move (runs of one
side are about 1 % apart, so the mean of several is shown).

Each round of the throughput measure runs both sides back to back; the
median of the rounds' ratios, with an interval that holds the true median
with 95 % confidence, is shown beside the ratio of the best runs.

    python benchmarks/metrics_cost.py [--seconds 5] [--runs 5] [--connections 8,32] [--servers waitress,uvicorn]
                                      [--instructions 20] [--instruction-runs 3] [--same]

Needs Linux, wrk (apt-get install wrk), the serve and metrics extras
(pip install ".[serve,metrics]"), and for ``--instructions`` valgrind.
"""
from __future__ import print_function

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import timeit

from cpu_time import cpu_seconds
from http_bridge import ROOT, THREADS, free_port, load, start
from tables import print_table


def command(server, port, metered):
    arguments = [sys.executable, "-m", "asgiref", "serve", "hello_app:application", "--port", str(port),
                 "--threads", str(THREADS), "--server", server, "--log-level", "WARNING"]
    if metered:
        arguments += ["--metrics", "127.0.0.1:%d" % free_port()]
    return arguments


def measure(server, levels, duration, runs, same=False):
    """
    {(metered, connections): (req/s, p50, p99)}, the best of ``runs`` runs
    each; {(metered, connections): the server's user and system CPU
    microseconds per request over all the runs}; and {connections: each
    round's ratio of the metered side's req/s to the other's}. With
    ``same``, neither side is metered: the ratios then show the spread
    between two identical servers.
    """
    ports = {False: free_port(), True: free_port()}
    processes = {}
    results = {}
    cpu = {}
    rounds = dict((connections, []) for connections in levels)
    try:
        # Started one by one inside the try, so one that fails to start leaves none running.
        for metered, port in ports.items():
            processes[metered] = start(server, port, command(server, port, metered and not same))
        for port in ports.values():
            load(port, 8, 1)  # warm up
        for connections in levels:
            for run in range(runs):
                rates = {}
                # Each side goes first in every other round, so neither gains from the order.
                for metered in ((False, True) if run % 2 == 0 else (True, False)):
                    user, system = cpu_seconds(processes[metered].pid)
                    found = load(ports[metered], connections, duration)
                    rates[metered] = found[0]
                    now_user, now_system = cpu_seconds(processes[metered].pid)
                    total = cpu.get((metered, connections), (0.0, 0.0, 0.0))
                    cpu[(metered, connections)] = (total[0] + now_user - user, total[1] + now_system - system,
                                                   total[2] + found[0] * duration)
                    best = results.get((metered, connections))
                    if best is None or found[0] > best[0]:
                        results[(metered, connections)] = found
                rounds[connections].append(rates[True] / rates[False])
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
    return results, dict((key, (user / requests * 1e6, system / requests * 1e6))
                         for key, (user, system, requests) in cpu.items()), rounds


def median_and_interval(ratios):
    """
    The median of ``ratios`` and an interval that holds the true median
    with at least 95 % confidence (order statistics: no assumption about
    the spread's shape), or None when there are too few to give one.
    """
    ordered = sorted(ratios)
    count = len(ordered)
    middle = count // 2
    median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    # The lowest rank k whose tail P(Binomial(count, 1/2) < k) is at most 2.5 %.
    tail, rank = 0.0, 0
    while tail + math.comb(count, rank) / 2.0 ** count <= 0.025:
        tail += math.comb(count, rank) / 2.0 ** count
        rank += 1
    if rank == 0:
        return median, None
    return median, (ordered[rank - 1], ordered[count - rank])


def instructions(server, duration, runs):
    """
    {metered: instructions the server process executes per request}, the
    mean of ``runs`` runs of each side in turns, each under callgrind for
    ``duration`` s.
    """
    found = {False: [], True: []}
    directory = tempfile.mkdtemp()
    try:
        for run in range(runs):
            for metered in ((False, True) if run % 2 == 0 else (True, False)):
                found[metered].append(_instructions(server, duration, metered, directory))
    finally:
        shutil.rmtree(directory)
    return dict((metered, sum(counts) / len(counts)) for metered, counts in found.items())


def _instructions(server, duration, metered, directory):
    port = free_port()
    counts = os.path.join(directory, "callgrind.%s" % metered)
    process = start(server, port, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + counts]
                    + command(server, port, metered))
    try:
        # Warmed up (under valgrind the first requests take seconds), then counted from zero.
        subprocess.check_call(["wrk", "-t1", "-c8", "-d5s", "http://127.0.0.1:%d/" % port],
                              stdout=subprocess.DEVNULL)
        subprocess.check_call(["callgrind_control", "--zero", str(process.pid)], stdout=subprocess.DEVNULL)
        output = subprocess.check_output(["wrk", "-t1", "-c8", "-d%ds" % duration,
                                          "http://127.0.0.1:%d/" % port]).decode("ascii")
        subprocess.check_call(["callgrind_control", "--dump", str(process.pid)], stdout=subprocess.DEVNULL)
    finally:
        process.terminate()
        process.wait()
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    if not requests:
        raise SystemExit("%s under valgrind answered no request in %ds" % (server, duration))
    with open(counts + ".1") as dump:
        executed = int(re.search(r"^summary: (\d+)$", dump.read(), re.MULTILINE).group(1))
    os.remove(counts + ".1")
    return executed / float(requests)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", default="8,32", help="concurrency levels, comma separated")
    parser.add_argument("--servers", default="waitress,uvicorn", help="HTTP servers, comma separated")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side at each level; the best is kept")
    parser.add_argument("--same", action="store_true",
                        help="run both sides without --metrics, to see how far apart two identical servers measure")
    parser.add_argument("--instructions", type=int, default=0, metavar="SECONDS",
                        help="also count instructions per request under valgrind for this long (0: not)")
    parser.add_argument("--instruction-runs", type=int, default=3,
                        help="runs of each side under valgrind, in turns; their mean is shown")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.connections.split(",")]
    rows = [("server", "connections", "req/s without", "req/s with --metrics", "ratio", "rounds' median",
             "95 % interval", "p99 without", "p99 with", "p99 ratio", "user CPU/request without", "with", "ratio",
             "system without", "with")]
    for server in arguments.servers.split(","):
        results, cpu, rounds = measure(server, levels, arguments.seconds, arguments.runs, arguments.same)
        for connections in levels:
            plain, metered = results[(False, connections)], results[(True, connections)]
            plain_cpu, metered_cpu = cpu[(False, connections)], cpu[(True, connections)]
            median, interval = median_and_interval(rounds[connections])
            rows.append((server, str(connections), "%.0f" % plain[0], "%.0f" % metered[0],
                         "%.3fx" % (metered[0] / plain[0]), "%.3fx" % median,
                         "%.3fx-%.3fx" % interval if interval else "(more runs)", "%.2f ms" % (plain[2] * 1e3),
                         "%.2f ms" % (metered[2] * 1e3), "%.2fx" % (metered[2] / plain[2]),
                         "%.0f us" % plain_cpu[0], "%.0f us" % metered_cpu[0],
                         "%.3fx" % (metered_cpu[0] / plain_cpu[0]), "%.0f us" % plain_cpu[1],
                         "%.0f us" % metered_cpu[1]))
    print("Python %s, asgiref serve hello_app:application (in-memory layer, %d worker threads, waitress with %d "
          "threads), wrk on loopback, %ds per run, best of %d interleaved runs; each round runs both sides back "
          "to back, and its ratio is theirs" % (sys.version.split()[0], 4, THREADS, arguments.seconds, arguments.runs))
    if arguments.same:
        print("--same: neither side has --metrics; the ratios are the spread between two identical servers")
    print_table(rows)
    if arguments.instructions:
        print()
        counted = [("server", "instructions/request without", "with --metrics", "ratio")]
        for server in arguments.servers.split(","):
            found = instructions(server, arguments.instructions, arguments.instruction_runs)
            counted.append((server, "%.0f" % found[False], "%.0f" % found[True],
                            "%.3fx" % (found[True] / found[False])))
        print("Under valgrind's callgrind, wrk with 8 connections for %ds, after a warm-up; the mean of %d runs a "
              "side, in turns" % (arguments.instructions, arguments.instruction_runs))
        print_table(counted)
    print()
    print_table([("in this process (timeit, best of 5)", "without", "with --metrics' instruments", "added")]
                + [(what, "%.2f us" % plain, "%.2f us" % metered, "%.2f us" % (metered - plain))
                   for what, plain, metered in added_costs()])


def added_costs():
    """(what, microseconds without, microseconds with the instruments) of a layer send and receive, and a request."""
    sys.path.insert(0, ROOT)
    from asgiref.inmemory import ChannelLayer
    from asgiref.metrics import Metrics, WsgiFrontMetrics, instrument_layer

    def best(function, number=20000):
        return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6

    def layer_round(layer):
        def send_and_receive():
            layer.send("work", {"n": 1})
            layer.receive(["work"])
        return send_and_receive

    def request(application):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}

        def one():
            result = application(environ, lambda status, headers, exc_info=None: None)
            if hasattr(result, "close"):
                result.close()
        return one

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]
    metrics = Metrics()
    costs = [("in-memory send + receive", best(layer_round(ChannelLayer())),
              best(layer_round(instrument_layer(ChannelLayer(), metrics)))),
             ("a WSGI request (middleware alone)", best(request(WsgiFrontMetrics(hello, metrics).application)),
              best(request(WsgiFrontMetrics(hello, metrics))))]
    costs.append(("an ASGI 3 request (the front's counters)",) + asgi3_request_costs(metrics))
    return costs


def asgi3_request_costs(metrics, number=20000):
    """
    Microseconds per request of what the ASGI 3 front does for a request
    without and with counters: nothing, and what ``ChannelLayerApplication``
    does around a request when its ``counters`` are set.
    """
    from asgiref.bridge.layer_calls import clock
    from asgiref.metrics.asgi3_front import FrontCounters
    counters = FrontCounters(metrics)

    def counted():
        began = clock()
        counters.request_started()
        counters.request_answered(200, clock() - began)
    return 0.0, min(timeit.repeat(counted, number=number, repeat=5)) / number * 1e6


if __name__ == "__main__":
    main()
