"""
A Channels 1.1.8 project (tests/channels1_project) answers real HTTP and
WebSocket clients through the ASGI 3 front: its worker runs ``manage.py
runworker`` on an old Python (3.6) with Channels 1.1.8, over Redis with
asgi_redis 1.4.3, and the front runs on uvicorn here, over the Redis layer
of this package (wire-compatible with asgi_redis).

Runs when ASGIREF_CHANNELS1_PYTHON names that old Python's interpreter (with
channels 1.1.8 and asgi_redis 1.4.3 installed): tox's py313 points it at
the compat environment's. Skips otherwise, but fails where
ASGIREF_REQUIRE_CHANNELS1 is set (CI) and the named Python is missing.
"""
from __future__ import absolute_import

import os
import subprocess
import sys

import pytest

CHANNELS1_PYTHON = os.environ.get("ASGIREF_CHANNELS1_PYTHON")
if sys.version_info < (3, 9) or not CHANNELS1_PYTHON:
    pytest.skip("needs Python 3.9+ here and ASGIREF_CHANNELS1_PYTHON (a Python with Channels 1.1.8)",
                allow_module_level=True)
if not os.path.exists(CHANNELS1_PYTHON):
    missing = "ASGIREF_CHANNELS1_PYTHON names %s, which does not exist (tox: run the compat env first)" % (
        CHANNELS1_PYTHON,)
    if os.environ.get("ASGIREF_REQUIRE_CHANNELS1"):
        raise RuntimeError(missing)
    pytest.skip(missing, allow_module_level=True)
pytest.importorskip("uvicorn")

import requests  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from asgiref.asgi3 import ChannelLayerApplication  # noqa: E402
from tests.asgi3_servers import Uvicorn  # noqa: E402
from tests.redis_servers import RedisServer  # noqa: E402

PROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "channels1_project")


@pytest.fixture(scope="module")
def front():
    """uvicorn with the front on a fresh Redis, and a Channels 1 runworker behind it."""
    from asgiref.redis import RedisChannelLayer
    redis = RedisServer()
    # The project's own settings, whatever other tests of this run left in the environment.
    environment = dict(os.environ, REDIS_URL=redis.url, DJANGO_SETTINGS_MODULE="chat.settings")
    environment.pop("PYTHONPATH", None)
    worker = subprocess.Popen([CHANNELS1_PYTHON, "manage.py", "runworker"], cwd=PROJECT, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Uvicorn(ChannelLayerApplication(RedisChannelLayer(hosts=[redis.url], receive_timeout=1)))
    try:
        yield server
    finally:
        server.close()
        worker.terminate()
        output = worker.communicate()[0].decode("utf-8", "replace")
        redis.stop()
        print(output)


def test_a_django_view_answers_http_through_runworker(front):
    # The worker may still be starting: the first request waits in Redis for it.
    response = requests.get(front.url + "/hello/?x=1", timeout=30)
    assert response.status_code == 200
    assert response.text == "hello from Channels 1 on GET, path /hello/"
    assert requests.post(front.url + "/hello/", data=b"body", timeout=30).text.startswith(
        "hello from Channels 1 on POST")


def test_websocket_consumers_answer_through_runworker(front):
    with connect(front.ws_url + "/chat/") as socket:
        socket.send("caf\u00e9")
        assert socket.recv(30) == "echo: caf\u00e9"
        socket.send("second")
        assert socket.recv(30) == "echo: second"
