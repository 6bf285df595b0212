# -*- coding: utf-8 -*-
"""The WSGI <-> ASGI HTTP mapping: every rule of spec section 6, both ways."""
from __future__ import absolute_import, unicode_literals

import io

import pytest
import six

from asgiref.wsgi import mapping as wsgi_mapping
from asgiref.wsgi.mapping import (
    REASON_PHRASES, environ_from_request, headers_from_wsgi, headers_to_wsgi, request_from_environ, status_code,
    status_line, wsgi_environ)


def native(text):
    """A WSGI native string from text whose characters are the raw bytes (latin-1)."""
    return text.encode("latin-1") if six.PY2 else text


def utf8_native(text):
    """The native string a WSGI server puts in PATH_INFO for a UTF-8 path."""
    return native(text.encode("utf-8").decode("latin-1"))


def make_environ(**extra):
    environ = {
        str("REQUEST_METHOD"): str("GET"),
        str("SCRIPT_NAME"): str(""),
        str("PATH_INFO"): str("/"),
        str("QUERY_STRING"): str(""),
        str("SERVER_NAME"): str("example.com"),
        str("SERVER_PORT"): str("8080"),
        str("SERVER_PROTOCOL"): str("HTTP/1.1"),
        str("wsgi.url_scheme"): str("http"),
    }
    environ.update((str(key), value) for key, value in extra.items())
    return environ


# environ -> http.request

def test_every_key_of_http_request_from_an_environ():
    request = request_from_environ(make_environ(
        SCRIPT_NAME=str("/mount"), PATH_INFO=utf8_native("/caf\u00e9/"), QUERY_STRING=str("q=%C3%A9&x=1"),
        REQUEST_METHOD=str("post"), REMOTE_ADDR=str("10.0.0.1"), REMOTE_PORT=str("5555"),
        CONTENT_TYPE=str("text/plain"), CONTENT_LENGTH=str("3"), HTTP_X_CUSTOM=str("yes"),
        **{"wsgi.url_scheme": str("https")}))
    assert request == {
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "root_path": "/mount",
        "path": "/mount/caf\u00e9/",
        "query_string": b"q=%C3%A9&x=1",
        "headers": request["headers"],
        "client": ["10.0.0.1", 5555],
        "server": ["example.com", 8080],
    }
    assert sorted(request["headers"]) == [
        [b"content-length", b"3"], [b"content-type", b"text/plain"], [b"x-custom", b"yes"]]
    for key, value in request.items():
        assert isinstance(key, six.text_type)
    for key in ("http_version", "method", "scheme", "root_path", "path"):
        assert isinstance(request[key], six.text_type)


def test_header_names_are_lower_case_with_dashes_and_values_raw_bytes():
    request = request_from_environ(make_environ(
        HTTP_ACCEPT_LANGUAGE=str("en"), HTTP_X_LATIN=native("caf\xe9")))
    assert sorted(request["headers"]) == [[b"accept-language", b"en"], [b"x-latin", b"caf\xe9"]]


def test_content_headers_come_from_cgi_keys_only():
    request = request_from_environ(make_environ(
        CONTENT_TYPE=str(""), CONTENT_LENGTH=str(""), HTTP_CONTENT_TYPE=str("x"), HTTP_CONTENT_LENGTH=str("9")))
    assert request["headers"] == []


@pytest.mark.parametrize("protocol, version", [
    ("HTTP/1.0", "1.0"), ("HTTP/1.1", "1.1"), ("HTTP/2", "2"), ("HTTP/2.0", "2")])
def test_http_version(protocol, version):
    assert request_from_environ(make_environ(SERVER_PROTOCOL=str(protocol)))["http_version"] == version


def test_percent_escapes_in_path_info_stay_as_they_are():
    # PATH_INFO is already decoded by the server: a literal %2F in it is text.
    request = request_from_environ(make_environ(PATH_INFO=str("/a%2Fb")))
    assert request["path"] == "/a%2Fb"


def test_a_path_that_is_not_utf8_is_refused():
    with pytest.raises(ValueError):
        request_from_environ(make_environ(PATH_INFO=native("/\xff")))


def test_client_without_a_port_and_no_client_without_an_address():
    assert request_from_environ(make_environ(REMOTE_ADDR=str("1.2.3.4")))["client"] == ["1.2.3.4", 0]
    assert "client" not in request_from_environ(make_environ())


# http.request -> environ

def request(**extra):
    message = {
        "reply_channel": "http.response.abc!1",
        "http_version": "1.1",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
    }
    message.update(extra)
    return message


def test_every_cgi_key_from_a_request():
    environ = environ_from_request(request(
        method="PUT", root_path="/mount", path="/mount/caf\u00e9", query_string=b"a=%20b&c",
        http_version="1.0", scheme="https", client=["10.0.0.1", 5555], server=["example.com", 8443],
        headers=[[b"content-type", b"text/plain"], [b"content-length", b"5"], [b"x-thing", b"\xe9"]]))
    assert environ == {
        "REQUEST_METHOD": "PUT",
        "SCRIPT_NAME": "/mount",
        "PATH_INFO": utf8_native("/caf\u00e9"),
        "QUERY_STRING": "a=%20b&c",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "8443",
        "REMOTE_ADDR": "10.0.0.1",
        "REMOTE_PORT": "5555",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "5",
        "HTTP_X_THING": native("\xe9"),
        "wsgi.url_scheme": "https",
    }
    for key, value in environ.items():
        assert type(key) is str and type(value) is str


def test_repeated_headers_are_joined_with_commas_and_cookies_with_semicolons():
    environ = environ_from_request(request(headers=[
        [b"accept", b"text/html"], [b"cookie", b"a=1"], [b"accept", b"*/*"], [b"cookie", b"b=2"]]))
    assert environ["HTTP_ACCEPT"] == "text/html,*/*"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"


def test_header_names_with_underscores_are_dropped():
    environ = environ_from_request(request(headers=[[b"x_forwarded_for", b"evil"], [b"x-forwarded-for", b"ok"]]))
    assert environ["HTTP_X_FORWARDED_FOR"] == "ok"


def test_path_outside_the_root_path_is_kept_whole():
    environ = environ_from_request(request(root_path="/app", path="/other"))
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/other")


def test_defaults_for_optional_keys():
    environ = environ_from_request({"method": "GET", "path": "/", "headers": [[b"host", b"example.com:81"]]})
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["QUERY_STRING"] == ""
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "81")
    assert "REMOTE_ADDR" not in environ
    assert (environ_from_request({"method": "GET", "path": "/", "scheme": "https"})["SERVER_PORT"]) == "443"


def test_wsgi_environ_is_complete_per_pep_3333():
    stream, errors = io.BytesIO(b"abc"), io.StringIO()
    environ = wsgi_environ(request(body=b"abc"), stream, errors)
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.input"] is stream
    assert environ["wsgi.errors"] is errors
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is True
    assert environ["wsgi.run_once"] is False
    assert environ["wsgi.input_terminated"] is True
    assert callable(environ["wsgi.file_wrapper"])
    assert environ["CONTENT_LENGTH"] == "3"


def test_a_request_without_a_body_gets_no_content_length():
    assert "CONTENT_LENGTH" not in wsgi_environ(request(), None, None)
    assert "CONTENT_LENGTH" not in wsgi_environ(request(body=b""), None, None)


def test_content_length_is_left_unknown_for_a_body_still_arriving():
    environ = wsgi_environ(request(body=b"abc", body_channel="http.request.body?x"), None, None)
    assert "CONTENT_LENGTH" not in environ


# Round trip: environ -> http.request -> environ.

ROUND_TRIPS = [
    make_environ(),
    make_environ(PATH_INFO=utf8_native("/\u65e5\u672c/caf\u00e9"), SCRIPT_NAME=utf8_native("/m\u00fcnchen")),
    make_environ(PATH_INFO=str("/a%2Fb/c")),
    make_environ(QUERY_STRING=str("a=%20b&a=c&d=%C3%A9&e"), REQUEST_METHOD=str("DELETE")),
    make_environ(HTTP_ACCEPT=str("text/html,*/*"), HTTP_COOKIE=str("a=1; b=2"), HTTP_X_EMPTY=str(""),
                 CONTENT_TYPE=str("application/json"), CONTENT_LENGTH=str("10")),
    make_environ(SERVER_PROTOCOL=str("HTTP/1.0"), REMOTE_ADDR=str("::1"), REMOTE_PORT=str("40000"),
                 **{"wsgi.url_scheme": str("https")}),
]


@pytest.mark.parametrize("environ", ROUND_TRIPS)
def test_environ_to_request_to_environ_gives_back_the_original(environ):
    assert environ_from_request(request_from_environ(environ)) == environ


# Status lines.

@pytest.mark.parametrize("status", sorted(REASON_PHRASES))
def test_every_standard_status_has_its_reason_phrase(status):
    line = status_line(status)
    assert type(line) is str
    assert line == "%d %s" % (status, REASON_PHRASES[status])
    assert status_code(line) == status


def test_some_reason_phrases():
    assert status_line(200) == "200 OK"
    assert status_line(308) == "308 Permanent Redirect"
    assert status_line(429) == "429 Too Many Requests"
    assert status_line(599) == "599 Unknown"


@pytest.mark.parametrize("line", ["200", "OK 200", "20 OK", "2000 OK", "200 OK\r\nX: y", 200,
                                  b"200 OK" if six.PY3 else 1])
def test_bad_status_lines_are_refused(line):
    with pytest.raises(ValueError):
        status_code(line if not isinstance(line, six.text_type) else str(line))


# Response headers.

def test_wsgi_headers_become_lower_case_byte_pairs_in_order():
    headers = [(str("Content-Type"), str("text/html")), (str("Set-Cookie"), str("a=1")),
               (str("Set-Cookie"), str("b=2")), (str("X-Latin"), native("caf\xe9"))]
    assert headers_from_wsgi(headers) == [
        [b"content-type", b"text/html"], [b"set-cookie", b"a=1"], [b"set-cookie", b"b=2"],
        [b"x-latin", b"caf\xe9"]]


@pytest.mark.parametrize("headers", [
    [(str("X-Evil"), str("a\r\nSet-Cookie: b=1"))],
    [(str("X-Evil\n"), str("a"))],
    [(str("X-Only-Name"),)],
    [str("X-Not-A-Pair")],
    ((str("X"), str("tuple of headers")),),
])
def test_bad_wsgi_headers_are_refused(headers):
    with pytest.raises(ValueError):
        headers_from_wsgi(headers)


@pytest.mark.skipif(six.PY2, reason="a native string on Python 2 is bytes and cannot be outside latin-1")
def test_wsgi_header_values_outside_latin1_are_refused():
    with pytest.raises(ValueError):
        headers_from_wsgi([("X-Snowman", "\u2603")])


def test_asgi_headers_become_native_pairs_without_hop_by_hop_ones():
    assert headers_to_wsgi([
        [b"content-type", b"text/plain"], [b"connection", b"close"], [b"set-cookie", b"a=1"],
        [b"Transfer-Encoding", b"chunked"], [b"set-cookie", b"b=2"]]) == [
        (str("content-type"), str("text/plain")), (str("set-cookie"), str("a=1")), (str("set-cookie"), str("b=2"))]


def test_native_string_helpers():
    assert wsgi_mapping.path_to_native("/caf\u00e9") == utf8_native("/caf\u00e9")
    assert wsgi_mapping.path_from_native(utf8_native("/caf\u00e9")) == "/caf\u00e9"
    assert wsgi_mapping.to_native(b"\xe9") == native("\xe9")
    assert wsgi_mapping.from_native(native("\xe9")) == b"\xe9"
