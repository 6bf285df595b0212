"""Reading a process's metrics port, as Prometheus and a probe do."""
from __future__ import absolute_import, unicode_literals

import time

from six.moves import http_client


def fetch(port, path):
    """``(status, body text)`` of a GET on the metrics port."""
    connection = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(str("GET"), str(path))
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


def scrape(port):
    """The samples at ``/metrics``: {(name, ((label, value), ...)): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    status, text = fetch(port, "/metrics")
    assert status == 200, text
    return dict(((sample.name, tuple(sorted(sample.labels.items()))), sample.value)
                for family in text_string_to_metric_families(text) for sample in family.samples)


def value(samples, name, **labels):
    """One sample's value (0 if it is not there yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def metrics_port(running):
    """The metrics port a running command announced."""
    return int(running.wait_for_line(r"metrics, health and liveness: http://127\.0\.0\.1:(\d+)/metrics").group(1))


def eventually(check, timeout=15):
    """Wait until ``check()`` is true, for up to ``timeout`` seconds; its last value."""
    deadline = time.time() + timeout
    while True:
        outcome = check()
        if outcome or time.time() > deadline:
            return outcome
        time.sleep(0.05)
