"""WSGI applications for the bridge's hostile-traffic tests, served by ``asgiref serve hostile_apps:NAME``."""
from __future__ import absolute_import


def application(environ, start_response):
    """/exit raises SystemExit, /cut fails after two chunks; anything else is answered without reading the body."""
    path = environ["PATH_INFO"]
    if path == "/exit":
        raise SystemExit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    if path == "/cut":
        return _cut_off()
    return [b"not read"]


def _cut_off():
    yield b"first part, "
    yield b"second part, "
    raise RuntimeError("the application fails mid-stream")
