"""What the tests of the WSGI bridge share: WSGI environs and servers, and a layer's messages."""
from __future__ import absolute_import, unicode_literals

import io
import threading
import time

import six

from asgiref.wsgi import AsgiToWsgiAdapter
from tests.threads import in_thread


def native(text):
    return text.encode("latin-1") if six.PY2 else text


def make_environ(body=b"", **extra):
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    return dict((str(key), native(value) if isinstance(value, six.text_type) else value)
                for key, value in environ.items())


class StartResponse(object):
    """Records what an application passes to start_response."""

    def __init__(self):
        self.calls = []

    def __call__(self, status, headers, exc_info=None):
        self.calls.append((status, headers))
        return lambda data: None

    @property
    def status(self):
        return self.calls[-1][0]

    @property
    def headers(self):
        return self.calls[-1][1]


def take(layer, channel, timeout=10):
    """The next message on ``channel``, waiting for it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found, message = layer.receive([channel], block=True)
        if found is not None:
            return found, message
    raise AssertionError("nothing arrived on %s" % channel)


def respond(layer, request, status=200, headers=(), content=b"", more=False):
    layer.send(request["reply_channel"], {
        "status": status, "headers": [list(header) for header in headers], "content": content,
        "more_content": more})


def serve(front, environ):
    """Run the front adapter as a WSGI server would; return (start_response, body bytes)."""
    start_response = StartResponse()
    result = front(environ, start_response)
    try:
        return start_response, b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()


def serve_in_thread(front, environ):
    return in_thread(serve, front, environ)


def http_request(layer, **extra):
    message = {
        "reply_channel": layer.new_channel("test.reply?"),
        "http_version": "1.1", "method": "GET", "path": "/", "query_string": b"", "headers": [],
    }
    message.update(extra)
    return message


def replies(layer, request, timeout=10):
    """Every message of the response to ``request``."""
    messages = []
    while not messages or messages[-1].get("more_content"):
        messages.append(take(layer, request["reply_channel"], timeout)[1])
    return messages


def handle(layer, application, request, **keywords):
    AsgiToWsgiAdapter(application, layer, **keywords).handle(request)
    return replies(layer, request)


class Ticks(object):
    """A response body of 1000 ``tick`` chunks, 10 ms apart, that records what it produced and its close()."""

    def __init__(self):
        self.produced = []
        self.closed = threading.Event()

    def __iter__(self):
        for n in range(1000):
            self.produced.append(n)
            time.sleep(0.01)
            yield b"tick"

    def close(self):
        self.closed.set()
