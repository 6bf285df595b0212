"""WSGI applications for the asgiref command's tests, imported by the command as cli_apps:NAME."""
import hashlib
import time


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


not_callable = 42


def broken_import():
    raise RuntimeError("never called")


def _accept(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"accept": True})


def _echo(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"text": "echo: %s" % message["text"]})


def _http_hello(message, channel_layer):
    channel_layer.send(message["reply_channel"], {
        "status": 200, "headers": [[b"content-type", b"text/plain"]], "content": b"consumed " + message["path"].encode()})


#: ASGI 1 consumers for ``asgiref serve --consumers cli_apps:routes``.
routes = {"websocket.connect": _accept, "websocket.receive": _echo, "http.request": _http_hello}

#: The WebSocket consumers alone, beside a WSGI application: ``worker cli_apps:application --consumers ...``
#: (channel names are text on Python 2 too).
websocket_routes = {u"websocket.connect": _accept, u"websocket.receive": _echo}
