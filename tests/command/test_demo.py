"""The demo page: the request as the application saw it, and the layer's statistics."""
from __future__ import absolute_import, unicode_literals

import io

from asgiref.base_layer import BaseChannelLayer
from asgiref.command.demo import DemoApplication, layer_name
from asgiref.inmemory import ChannelLayer
from tests.redis_servers import require_redis


class BlindLayer(ChannelLayer):
    """A layer of a module that hands out no layer."""


def render(layer, **environ):
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http"}
    base.update(environ)
    calls = []
    body = b"".join(DemoApplication(layer)(dict((str(k), v) for k, v in base.items()),
                                           lambda status, headers: calls.append((status, headers))))
    return calls[0], body.decode("utf-8")


def test_the_page_shows_the_request_and_the_statistics():
    layer = ChannelLayer()
    layer.send("http.request", {"n": 1})
    (status, headers), page = render(layer, PATH_INFO=str("/somewhere"), QUERY_STRING=str("a=1"),
                                     HTTP_USER_AGENT=str("tester"),
                                     **{"wsgi.input": io.BytesIO(b"abc"), "CONTENT_LENGTH": str("3")})
    assert status == "200 OK"
    assert dict(headers)["Content-Type"] == "text/html; charset=utf-8"
    assert int(dict(headers)["Content-Length"]) == len(page.encode("utf-8"))
    assert "<th>PATH_INFO</th><td>/somewhere</td>" in page
    assert "<th>QUERY_STRING</th><td>a=1</td>" in page
    assert "<th>User-Agent</th><td>tester</td>" in page
    assert "Request body: 3 bytes." in page
    assert "asgiref.inmemory.ChannelLayer" in page
    assert "<th>messages_pending</th><td>1</td>" in page


def test_what_the_client_sent_is_escaped():
    _, page = render(ChannelLayer(), PATH_INFO=str("/<script>alert(1)</script>"),
                     HTTP_X_EVIL=str('"><img src=x>'))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&quot;&gt;&lt;img src=x&gt;" in page


def test_a_layer_without_statistics_says_so():
    class Plain(BaseChannelLayer):
        extensions = []

    _, page = render(Plain())
    assert "This layer keeps no statistics." in page
    assert "Extensions: none." in page


def test_a_layer_is_named_as_users_import_it():
    assert layer_name(ChannelLayer()) == "asgiref.inmemory.ChannelLayer"
    assert layer_name(BlindLayer()) == "tests.command.test_demo.BlindLayer"


def test_a_layer_handed_out_by_nested_packages_is_named_by_the_outermost():
    require_redis()
    from asgiref.redis import RedisClusterChannelLayer
    from asgiref.redis.cluster.layer import RedisClusterChannelLayer as defined
    assert defined is RedisClusterChannelLayer
    # Building it would need a cluster; its name needs only its class.
    assert layer_name(object.__new__(defined)) == "asgiref.redis.RedisClusterChannelLayer"
