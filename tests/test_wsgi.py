# -*- coding: utf-8 -*-
"""The WSGI bridge: both adapters together, and the names asgiref 1.1 code imports."""
from __future__ import unicode_literals

import hashlib
import os

import pytest
import six

from asgiref.inmemory import ChannelLayer
from asgiref.wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter
from bridge_helpers import make_environ, serve


@pytest.fixture
def layer():
    return ChannelLayer(receive_timeout=0.2)


# Both adapters together.

def echo(environ, start_response):
    """Answers with the environ it saw and a digest of the body."""
    body = environ["wsgi.input"].read()
    keys = sorted(key for key in environ if key.isupper() or key == "wsgi.url_scheme")
    # Native strings throughout: bytes on Python 2, latin-1 text on Python 3.
    text = str("\n").join(str("%s=%s") % (key, environ[key]) for key in keys)
    start_response(str("200 OK"), [(str("Content-Type"), str("text/plain"))])
    return [text if six.PY2 else text.encode("latin-1"), b"\nbody=" + hashlib.sha256(body).hexdigest().encode("ascii"),
            b"\nlength=" + str(len(body)).encode("ascii")]


ROUND_TRIPS = [
    {},
    {"PATH_INFO": "/\xe6\x97\xa5\xe6\x9c\xac/caf\xc3\xa9", "SCRIPT_NAME": "/m\xc3\xbcnchen"},
    {"PATH_INFO": "/a%2Fb/c"},
    {"QUERY_STRING": "a=%20b&a=c&d=%C3%A9&e", "REQUEST_METHOD": "DELETE"},
    {"HTTP_ACCEPT": "text/html,*/*", "HTTP_COOKIE": "a=1; b=2", "HTTP_X_EMPTY": ""},
    {"REMOTE_ADDR": "::1", "REMOTE_PORT": "40000", "SERVER_PROTOCOL": "HTTP/1.0", "wsgi.url_scheme": "https"},
    {"body": b""},
    {"body": b"small body", "CONTENT_TYPE": "text/plain", "REQUEST_METHOD": "POST"},
    {"body": os.urandom(300 * 1024), "CONTENT_TYPE": "application/octet-stream", "REQUEST_METHOD": "PUT"},
]


@pytest.mark.parametrize("extra", ROUND_TRIPS)
def test_environ_round_trip_through_both_adapters(layer, extra):
    extra = dict(extra)
    body = extra.pop("body", b"")
    environ = make_environ(body=body, **extra)
    worker = AsgiToWsgiAdapter(echo, layer)
    worker.start(threads=2)
    front = WsgiToAsgiAdapter(layer, response_timeout=10)
    try:
        start_response, output = serve(front, environ)
    finally:
        worker.stop()
    assert start_response.status == "200 OK"
    seen = dict(line.split(b"=", 1) for line in output.split(b"\n"))
    for key, value in environ.items():
        if key.isupper() or key == "wsgi.url_scheme":
            assert seen[key.encode("latin-1") if six.PY3 else key] == (value.encode("latin-1") if six.PY3 else value)
    assert seen[b"body"] == hashlib.sha256(body).hexdigest().encode("ascii")
    assert seen[b"length"] == str(len(body)).encode("ascii")


def test_the_names_that_asgiref_1_1_code_imports_are_here():
    from asgiref import wsgi
    assert issubclass(wsgi.RequestAborted, IOError)
    assert sorted(wsgi.__all__) == ["AsgiToWsgiAdapter", "RequestAborted", "WsgiToAsgiAdapter"]
