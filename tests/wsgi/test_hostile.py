"""
The WSGI bridge under hostile traffic, through ``asgiref serve`` (waitress in
front, the in-memory layer, worker threads behind) and a real HTTP client.
"""
from __future__ import absolute_import, unicode_literals

import pytest
from six.moves import http_client

from tests.command.test_cli import Command


@pytest.fixture
def server():
    command = Command("serve", "hostile_apps:application", "--port", "0", "--workers", "2",
                      "--log-level", "WARNING")
    try:
        yield command.port()
    finally:
        command.stop()


def request(port, method, path, body=None, timeout=30):
    """``(status, body)``; the body read to its end, which raises if the connection fails before it."""
    connection = http_client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(str(method), str(path), body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_body_far_over_the_body_channel_is_answered_when_the_application_does_not_read_it(server):
    # Far over what the body channel holds; on the bridge's old behaviour the
    # request waited a whole send timeout (60 s), then got 504.
    assert request(server, "POST", "/", body=b"x" * (20 * 1024 * 1024), timeout=20) == (200, b"not read")


def test_a_response_cut_off_mid_stream_is_an_error_for_the_client(server):
    with pytest.raises((http_client.IncompleteRead, http_client.HTTPException, IOError)):
        request(server, "GET", "/cut")
    assert request(server, "GET", "/") == (200, b"not read")


def test_requests_are_answered_after_the_application_raised_system_exit_ten_times(server):
    assert [request(server, "GET", "/exit")[0] for _ in range(10)] == [500] * 10
    assert [request(server, "GET", "/") for _ in range(5)] == [(200, b"not read")] * 5
