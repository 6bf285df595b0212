"""
Channels 1.1.8 and Daphne 1.4.2, unchanged from the package index, on this
package in place of asgiref 1.1.2: runserver's worker threads receive on
Channels' set of channel names and answer real HTTP through Daphne over the
in-memory layer; Daphne waits on the layer the Twisted way; a channel is
full at asgiref 1.1's default capacity of 10.
"""
import json
import socket
import threading
import time
from urllib.request import Request, urlopen

import channels
import daphne
import pytest
from channels.channel import Channel

import asgiref
from asgiref.base_layer import InvalidArgument
from asgiref.inmemory import ChannelLayer
from runserver import Runserver


@pytest.fixture(scope="module")
def runserver():
    server = Runserver()
    yield server
    server.stop()


def get(url, data=None):
    response = urlopen(Request(url, data=data), timeout=30)
    return response.status, response.read()


def test_this_package_stands_in_for_asgiref_1_1_2():
    assert (channels.__version__, daphne.__version__) == ("1.1.8", "1.4.2")
    assert asgiref.__version__.startswith("1.1.")
    assert issubclass(InvalidArgument, AssertionError)


def test_runserver_workers_answer_http_through_daphne_over_the_in_memory_layer(runserver):
    assert get(runserver.url) == (200, b"hello from WorkerThread")
    body = bytes(range(256)) * 400
    assert get(runserver.url + "echo", data=body) == (200, body)


def test_the_workers_receive_on_channels_set_of_names(runserver):
    status, body = get(runserver.url + "layer")
    layer = json.loads(body.decode("utf-8"))
    assert layer["class"] == "compat_site.layer.RecordingLayer"
    assert layer["worker_receive_types"] == ["set"]


def test_concurrent_requests_are_all_answered_and_no_worker_thread_dies(runserver):
    answers = []

    def client():
        for _ in range(5):
            answers.append(get(runserver.url))

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(60)
    assert answers == [(200, b"hello from WorkerThread")] * 40
    assert "Traceback" not in runserver.output
    assert "Exception in thread" not in runserver.output


def test_daphne_waits_on_the_layer_the_twisted_way(runserver):
    # Daphne 1.x takes receive_twisted when the layer lists "twisted" (Twisted
    # is installed here), and polls the layer from its reactor otherwise.
    status, body = get(runserver.url + "layer")
    assert "twisted" in json.loads(body.decode("utf-8"))["extensions"]
    assert "Using native Twisted mode on channel layer" in runserver.output
    assert "busy-loop" not in runserver.output


def test_a_channel_is_full_at_asgiref_1_1s_default_capacity_of_10():
    layer = ChannelLayer()
    channel = Channel("compat.full", channel_layer=layer)
    for n in range(10):
        channel.send({"n": n})
    with pytest.raises(layer.ChannelFull):
        channel.send({"n": 10})


def test_daphne_answers_503_once_ten_requests_wait_without_a_worker():
    server = Runserver("--noworker")
    waiting = []
    try:
        for _ in range(10):
            client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            waiting.append(client)
        # Daphne has put all ten on http.request before the eleventh arrives.
        time.sleep(0.5)
        status, _ = get_status(server.port)
        assert status == 503
    finally:
        for client in waiting:
            client.close()
        server.stop()


def get_status(port):
    client = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = client.recv(65536).split(b"\r\n", 1)[0]
        return int(head.split()[1]), head
    finally:
        client.close()
