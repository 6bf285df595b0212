"""
/livez: 503 naming what died (a worker thread, a stuck event loop), from a
real metrics endpoint in this process; 200 while all is well.
"""
from __future__ import absolute_import, unicode_literals

import sys
import threading
import time

import pytest

from asgiref.consumers import Consumers
from asgiref.inmemory import ChannelLayer
from tests.metrics.scraping import eventually, fetch

pytest.importorskip("prometheus_client")
from asgiref.metrics import Health, Liveness, Metrics, MetricsEndpoint  # noqa: E402 (only with prometheus_client)
from asgiref.metrics.health import threads_alive  # noqa: E402


def _exits(message, channel_layer):
    # Not an Exception: it ends the thread that runs it, as a crash would.
    raise SystemExit("the consumer thread ends")


@pytest.fixture
def endpoint():
    layer = ChannelLayer(receive_timeout=0.1)
    liveness = Liveness()
    served = MetricsEndpoint("127.0.0.1", 0, Metrics(), Health(layer), liveness)
    served.start()
    served.layer = layer
    yield served
    served.stop()


# pytest reports the thread's end, which is the point here.
_THREAD_END_WARNING = getattr(pytest, "PytestUnhandledThreadExceptionWarning", None)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning" if _THREAD_END_WARNING
                            else "default")
def test_livez_names_the_worker_threads_that_ended(endpoint):
    consumers = Consumers({"crash": _exits}, endpoint.layer)
    endpoint.liveness.add(threads_alive(consumers, "consumer threads"))
    consumers.start(2)
    try:
        assert fetch(endpoint.port, "/livez") == (200, "ok\n")
        endpoint.layer.send("crash", {"n": 1})
        assert eventually(lambda: fetch(endpoint.port, "/livez")[0] == 503)
        assert fetch(endpoint.port, "/livez")[1] == "1 of 2 consumer threads ended\n"
    finally:
        consumers.stop(5)


@pytest.mark.skipif(sys.version_info < (3, 9), reason="the ASGI 3 front runs on Python 3.9+")
def test_livez_names_an_event_loop_that_does_not_run(endpoint):
    import asyncio
    from asgiref.asgi3 import ChannelLayerApplication
    from asgiref.metrics.asgi3_front import count_front, loop_answers
    from tests.metrics.asgi3_calls import start_lifespan

    # The front sees its loop at the lifespan's startup.
    front = count_front(ChannelLayerApplication(ChannelLayer()), endpoint.metrics)
    endpoint.liveness.add(lambda: loop_answers(front, 0.5))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    stop_lifespan = start_lifespan(front, loop)
    try:
        assert eventually(lambda: front.loop is loop)
        assert fetch(endpoint.port, "/livez") == (200, "ok\n")
        # A callback that blocks the loop, as code that blocks in a coroutine would.
        loop.call_soon_threadsafe(time.sleep, 3)
        assert fetch(endpoint.port, "/livez") == (503, "the event loop did not run a callback within 0.5s\n")
        assert eventually(lambda: fetch(endpoint.port, "/livez")[0] == 200)
    finally:
        stop_lifespan()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_an_unknown_path_names_the_ones_there_are(endpoint):
    assert fetch(endpoint.port, "/nosuch") == (404, "not found: /metrics, /healthz, /livez\n")
