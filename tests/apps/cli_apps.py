"""WSGI applications for the asgiref command's tests, imported by the command as cli_apps:NAME."""
from __future__ import absolute_import

import hashlib
import time

from six.moves.urllib.parse import parse_qs


def application(environ, start_response):
    """Echoes the method, path, query and a digest of the body."""
    body = environ["wsgi.input"].read()
    text = "%s %s?%s %s %d" % (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"],
                               hashlib.sha256(body).hexdigest(), len(body))
    data = text.encode("latin-1") if not isinstance(text, bytes) else text
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


def _late(name, seconds):
    """An application that announces itself on wsgi.errors, then answers after ``seconds``."""
    def application(environ, start_response):
        environ["wsgi.errors"].write("%s request started\n" % name)
        environ["wsgi.errors"].flush()
        time.sleep(seconds)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s but complete" % name).encode("ascii")]
    return application


slow = _late("slow", 2)
stuck = _late("stuck", 60)


def chunk(path, index, count):
    """The ``index``-th of the ``count`` chunks that ``chunked`` answers ``path`` with."""
    return ("%s chunk %d of %d %s\n" % (path, index + 1, count, "." * 200)).encode("latin-1")


def chunked(environ, start_response):
    """
    A generator response of ``n`` chunks (query ``n``, 3 if absent), ``pause``
    seconds apart (0.005 if absent), each naming the request's path: a chunk
    of another request shows.
    """
    query = parse_qs(environ["QUERY_STRING"])
    count = int(query.get("n", ["3"])[0])
    pause = float(query.get("pause", ["0.005"])[0])
    path = environ["PATH_INFO"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    for index in range(count):
        if index:
            time.sleep(pause)
        yield chunk(path, index, count)


not_callable = 42


def broken_import():
    raise RuntimeError("never called")


def _accept(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"accept": True})


def _echo(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"text": "echo: %s" % message["text"]})


def _http_hello(message, channel_layer):
    channel_layer.send(message["reply_channel"], {
        "status": 200, "headers": [[b"content-type", b"text/plain"]],
        "content": b"consumed " + message["path"].encode()})


#: ASGI 1 consumers for ``asgiref serve --consumers cli_apps:routes``.
routes = {"websocket.connect": _accept, "websocket.receive": _echo, "http.request": _http_hello}

#: The WebSocket consumers alone, beside a WSGI application: ``worker cli_apps:application --consumers ...``
#: (channel names are text on Python 2 too).
websocket_routes = {u"websocket.connect": _accept, u"websocket.receive": _echo}
