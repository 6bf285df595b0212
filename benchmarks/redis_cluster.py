"""
The cluster layer on a 3-master Redis Cluster (as it comes, and with
``wait_for_replicas``) against this package's layer on one Redis (alone,
and with a replica) and channels_redis 4 on one Redis: same machine, same
workloads, one run.

    python benchmarks/redis_cluster.py [--seconds 1.0] [--rounds 3]

Run it with a Python that has this package's ``redis`` extra and the test
dependencies (the tox py313 environment has both): it starts a throwaway
redis-server and a throwaway cluster of six nodes (three masters, three
replicas; ``tests.redis_cluster``), a server with a replica of its own,
and builds channels_redis 4 in a cached
virtualenv on first use (``benchmarks/redis_layer.py``'s). Each side runs
in a subprocess of its own, the sides taking turns for several rounds;
each keeps its best.

Ping-pong is a ``send`` and a ``receive`` on one ordinary channel (this
package's synchronous calls; channels_redis's coroutines, its only API).
``send_group`` goes to 1,000 ordinary members; between runs, untimed, the
layer is flushed and the group made again.

The replicated server shows what a replica costs on its own: on one
machine the cluster's replicas apply every write on the same cores as the
masters and the client, which the lone server's ping-pong never pays for.
With ``wait_for_replicas`` each take also waits for the replica (WAIT).
The table shows that cost: the CPU time every redis-server of a side spent
per ping-pong (from ``/proc``, so on Linux only; the median of the rounds),
and the part of it its replicas spent.
"""
from __future__ import print_function, unicode_literals

import argparse
import json
import os
import subprocess
import sys
import tempfile

from cpu_time import cpu_seconds
from inmemory_vs_1_1 import REQUEST, clock, rate
from redis_layer import MEMBERS, SIDES, SMALL, cached_python, capped_rate, start_redis
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: The sides, as the table names them.
NAMES = {
    "single": "this package, one Redis",
    "replicated": "this package, one Redis and a replica",
    "cluster": "this package, cluster of 3 masters",
    "cluster_waiting": "the same, wait_for_replicas=True",
    "channels_redis": "channels_redis 4, one Redis",
}


def server_seconds(pids):
    """The CPU seconds (user and system) each process of ``pids`` has used, or None off Linux."""
    try:
        return [sum(cpu_seconds(pid)) for pid in pids]
    except (IOError, OSError):
        return None


def servers_now(servers):
    """The CPU seconds so far of each role's processes in ``servers`` (role to pids: "all", "replicas")."""
    return dict((role, server_seconds(pids)) for role, pids in servers.items())


def per_call(before, after, calls):
    """{"all_us": ..., "replicas_us": ...}: the CPU microseconds per call between two servers_now()."""
    return dict(("%s_us" % role, (sum(after[role]) - sum(before[role])) / calls * 1e6)
                for role in before if before[role] is not None and after[role] is not None)


def servers_per_call(operation, seconds, servers):
    """``operation``'s rate, as ``rate``, and the servers' CPU per call (per_call)."""
    calls = [0]

    def counted():
        operation()
        calls[0] += 1

    before = servers_now(servers)
    result = {"ping_pong": rate(counted, seconds)}
    result.update(per_call(before, servers_now(servers), calls[0]))
    return result


def measure_sync(layer, seconds, servers):
    """Ping-pong and send_group rates of one of this package's layers, and the servers' CPU per ping-pong."""
    def ping_pong():
        layer.send("http.request", REQUEST)
        layer.receive(["http.request"])

    members = ["member%d" % index for index in range(MEMBERS)]

    def new_group():
        layer.flush()
        for member in members:
            layer.group_add("everyone", member)

    results = servers_per_call(ping_pong, seconds, servers)
    results["send_group"] = capped_rate(lambda: layer.send_group("everyone", SMALL), seconds, 50, new_group)
    return results


def measure_channels_redis(hosts, seconds, servers):
    """The same workloads on channels_redis's coroutines."""
    import asyncio
    from channels_redis.core import RedisChannelLayer

    async def timed(operation, cap=None):
        count, start, elapsed = 0, clock(), 0.0
        while (elapsed < seconds or count < 3) and (cap is None or count < cap):
            await operation()
            count += 1
            elapsed = clock() - start
        return count / elapsed

    async def run():
        layer = RedisChannelLayer(hosts=hosts, capacity=1000000)

        async def ping_pong():
            await layer.send("http.request", REQUEST)
            await layer.receive("http.request")

        async def broadcast():
            await layer.group_send("everyone", SMALL)

        calls = [0]

        async def counted():
            await ping_pong()
            calls[0] += 1

        before = servers_now(servers)
        results = {"ping_pong": await timed(counted), "send_group": 0.0}
        results.update(per_call(before, servers_now(servers), calls[0]))
        for _ in range(3):
            await layer.flush()
            for index in range(MEMBERS):
                await layer.group_add("everyone", "member%d" % index)
            results["send_group"] = max(results["send_group"], await timed(broadcast, 50))
        await layer.flush()
        return results

    return asyncio.run(run())


def measure(side, hosts, seconds, servers):
    if side == "channels_redis":
        return measure_channels_redis(hosts, seconds, servers)
    if side.startswith("cluster"):
        from asgiref.redis import RedisClusterChannelLayer
        return measure_sync(RedisClusterChannelLayer(
            hosts=hosts, capacity=1000000, wait_for_replicas=side == "cluster_waiting"), seconds, servers)
    from asgiref.redis import RedisChannelLayer
    return measure_sync(RedisChannelLayer(hosts=hosts, capacity=1000000), seconds, servers)


def run_side(python, side, hosts, servers, seconds):
    # channels_redis's side must import its own asgiref (3.x), not this tree.
    path = [HERE] if side == "channels_redis" else [ROOT, HERE]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    command = [python, os.path.abspath(__file__), "--measure", side, "--hosts", json.dumps(hosts),
               "--servers", json.dumps(servers), "--seconds", str(seconds)]
    output = subprocess.check_output(command, env=environment, cwd=tempfile.gettempdir())
    return json.loads(output.decode("utf-8"))


def microseconds(runs, key):
    """The median over ``runs`` of ``key`` in microseconds, as text ("-" where not measured)."""
    values = sorted(run[key] for run in runs if key in run)
    return "%.0f" % values[len(values) // 2] if values else "-"


def print_results(best, runs):
    rows = [("side", "ping-pong ~1 KB, ops/s", "vs one Redis", "servers' CPU per ping-pong, us",
             "of which replicas', us", "send_group to 1,000 members, /s", "vs channels_redis")]
    for side in ("single", "replicated", "cluster", "cluster_waiting", "channels_redis"):
        rows.append((NAMES[side], "%.0f" % best[side]["ping_pong"],
                     "%.2fx" % (best[side]["ping_pong"] / best["single"]["ping_pong"]),
                     microseconds(runs[side], "all_us"), microseconds(runs[side], "replicas_us"),
                     "%.0f" % best[side]["send_group"],
                     "%.2fx" % (best[side]["send_group"] / best["channels_redis"]["send_group"])))
    print_table(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per run of each workload")
    parser.add_argument("--rounds", type=int, default=3, help="turns each side takes; the best counts")
    parser.add_argument("--measure", choices=sorted(NAMES), help=argparse.SUPPRESS)
    parser.add_argument("--hosts", help=argparse.SUPPRESS)
    parser.add_argument("--servers", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure(arguments.measure, json.loads(arguments.hosts), arguments.seconds,
                                 json.loads(arguments.servers))))
        return
    sys.path.insert(0, ROOT)
    from tests.redis_cluster import RedisCluster
    channels_redis_python = cached_python("channels_redis", sys.executable, SIDES["channels_redis"][1])
    process, port = start_redis()
    primary, primary_port = start_redis()
    replica, _ = start_redis(replica_of=primary_port)
    cluster = RedisCluster()
    one_redis = ["redis://127.0.0.1:%d/0" % port]
    lone = {"all": [process.pid], "replicas": []}
    with_replica = {"all": [primary.pid, replica.pid], "replicas": [replica.pid]}
    masters = set(node.port for node in cluster.masters())
    nodes = {"all": [node.process.pid for node in cluster.nodes],
             "replicas": [node.process.pid for node in cluster.nodes if node.port not in masters]}
    sides = [("single", sys.executable, one_redis, lone),
             ("replicated", sys.executable, ["redis://127.0.0.1:%d/0" % primary_port], with_replica),
             ("cluster", sys.executable, cluster.urls[:1], nodes),
             ("cluster_waiting", sys.executable, cluster.urls[:1], nodes),
             ("channels_redis", channels_redis_python, one_redis, lone)]
    runs = dict((side, []) for side in NAMES)
    try:
        # Turns, round after round: a load that comes and goes on the
        # machine falls on every side alike.
        for _ in range(arguments.rounds):
            for side, python, hosts, servers in sides:
                runs[side].append(run_side(python, side, hosts, servers, arguments.seconds))
    finally:
        cluster.stop()
        for server in (process, primary, replica):
            server.terminate()
            server.wait()
    best = dict((side, dict((key, max(run[key] for run in runs[side])) for key in ("ping_pong", "send_group")))
                for side in runs)
    print("Python %s, best of %d interleaved rounds; the cluster's six nodes and the other redis-servers "
          "on this machine" % (sys.version.split()[0], arguments.rounds))
    print_results(best, runs)


if __name__ == "__main__":
    main()
