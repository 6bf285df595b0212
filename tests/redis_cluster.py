"""
A throwaway Redis Cluster for the cluster layer's tests: six
``redis-server --cluster-enabled yes`` nodes on free ports (three masters,
three replicas, joined by ``redis-cli --cluster create``), nothing saved to
disk, a short ``cluster-node-timeout`` so a replica takes over a killed
master within seconds; killed at the end. Given tests/redis_tls.py's
certificates, the nodes speak TLS only, to clients and to each other.
"""
from __future__ import absolute_import, unicode_literals

import subprocess
import time
import unittest

from tests import redis_tls
from tests.redis_servers import RedisServer, executable, free_port, require_redis, skip_or_fail

#: Milliseconds before the cluster calls a silent master failed and promotes its replica.
NODE_TIMEOUT = 1000


def require_cluster():
    """Skip (or fail) unless redis-cli and a redis-py with cluster clients and sharded pub/sub are here."""
    if executable("redis-cli") is None:
        skip_or_fail("redis-cli is not installed (apt-get install redis-tools)")
    require_redis()
    try:
        from asgiref.redis.cluster import cluster_support
    except ImportError as error:
        skip_or_fail("the redis extra is not installed (pip install \".[redis]\"): %s" % error)
    missing = cluster_support()
    if missing:
        # Python 2 and 3.6 have no such redis-py: a skip there, even where the Redis tests must run.
        raise unittest.SkipTest("%s; the cluster layer needs redis-py 4.6 or later" % missing)


class RedisCluster(object):
    """
    Six nodes on 127.0.0.1, three masters with a replica each; ``urls``
    names every node. With ``certificates`` (a redis_tls.Certificates),
    every node is a redis_tls.TlsRedisServer showing their server
    certificate, with TLS on the cluster bus and between replicas too.
    """

    def __init__(self, masters=3, certificates=None):
        require_cluster()
        self.nodes = []
        self.tls = certificates is not None
        self.cli_arguments = redis_tls.cli_arguments(certificates) if self.tls else []
        try:
            for _ in range(masters * 2):
                # The cluster bus gets a free port of its own (by default it is
                # the client port + 10000, which may be taken or past 65535).
                extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                         "--cluster-port", str(free_port()), "--cluster-node-timeout", str(NODE_TIMEOUT),
                         # Replicas in sync at once, and free to take over whatever their lag.
                         "--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0"]
                if self.tls:
                    self.nodes.append(redis_tls.TlsRedisServer(
                        certificates, extra=extra + ["--tls-cluster", "yes", "--tls-replication", "yes"]))
                else:
                    self.nodes.append(RedisServer(extra=extra))
            subprocess.check_output(
                [executable("redis-cli")] + self.cli_arguments + ["--cluster", "create"]
                + ["127.0.0.1:%d" % node.port for node in self.nodes]
                + ["--cluster-replicas", "1", "--cluster-yes"], stderr=subprocess.STDOUT)
            self.wait_until_ok()
        except BaseException:
            self.stop()
            raise

    @property
    def urls(self):
        return [node.url for node in self.nodes]

    def cli(self, node, *arguments):
        """The text ``redis-cli`` prints for ``arguments`` sent to ``node`` (a RedisServer)."""
        output = subprocess.check_output(
            [executable("redis-cli")] + self.cli_arguments + ["-p", str(node.port)] + list(arguments))
        return output.decode("utf8").strip()

    def alive(self):
        return [node for node in self.nodes if node.process.poll() is None]

    def masters(self):
        """The live nodes that are masters now, with the slots they serve."""
        found = []
        for node in self.alive():
            line = [entry for entry in self.cli(node, "CLUSTER", "NODES").splitlines() if "myself" in entry][0]
            if "master" in line.split()[2]:
                found.append(node)
        return found

    def serves(self, node, number):
        """Whether ``node`` serves hash slot ``number`` now (the slot ranges of its own CLUSTER NODES line)."""
        line = [entry for entry in self.cli(node, "CLUSTER", "NODES").splitlines() if "myself" in entry][0]
        for part in line.split()[8:]:
            start, _, end = part.partition("-")
            if part[0].isdigit() and int(start) <= number <= int(end or start):
                return True
        return False

    def wait_until_ok(self, timeout=30):
        """
        Wait until every live node says the cluster is ok, every slot has a
        live master and every replica is in sync with its master (a replica
        that never synced does not take over).
        """
        deadline = time.time() + timeout
        while time.time() < deadline:
            states = [self.cli(node, "CLUSTER", "INFO") for node in self.alive()]
            replication = [self.cli(node, "INFO", "replication") for node in self.alive()]
            if (all("cluster_state:ok" in state for state in states) and self._slots_served()
                    and all("role:master" in info or "master_link_status:up" in info for info in replication)):
                return
            time.sleep(0.1)
        raise AssertionError("the cluster was not ok within %ss" % timeout)

    def _slots_served(self):
        served = 0
        for node in self.masters():
            for line in self.cli(node, "CLUSTER", "NODES").splitlines():
                if "myself" in line:
                    for part in line.split()[8:]:
                        if "-" in part and not part.startswith("["):
                            start, end = part.split("-")
                            served += int(end) - int(start) + 1
                        elif part.isdigit():
                            served += 1
        return served == 16384

    def stop(self):
        for node in self.nodes:
            node.stop()
