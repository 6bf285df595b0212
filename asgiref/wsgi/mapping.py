"""
The mapping between WSGI (PEP 3333) and ASGI 1's HTTP messages (spec
sections 5 and 6): environ to ``http.request`` and back, status lines, and
response headers.

WSGI strings are "native strings": byte strings on Python 2, and on Python 3
text that carries the raw bytes as latin-1. Paths are UTF-8 on the wire and
unicode in ASGI messages. This module has no unicode_literals: a plain
literal here is a native string, and ASGI text is written u"...".
"""
from wsgiref.util import FileWrapper

import six

from ..bridge.status_lines import REASON_PHRASES, status_line  # noqa: F401 (asgiref.wsgi.mapping's names)

# PEP 3333: an application must not send these; a WSGI server may refuse them.
HOP_BY_HOP = frozenset([
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
    b"transfer-encoding", b"upgrade",
])

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Header loops convert inline rather than through to_native/from_native:
# they run for every header of every request.
_NATIVE_IS_BYTES = six.PY2


def to_native(data):
    """Bytes as a WSGI native string."""
    return data if six.PY2 else data.decode("latin-1")


def from_native(text):
    """A WSGI native string as bytes; ValueError if it cannot be one (PEP 3333 allows only latin-1)."""
    return text.encode("latin-1") if isinstance(text, six.text_type) else text


if six.PY2:
    def text_from_native(text):
        """A native string holding ASCII (a method, a host) as ASGI text."""
        return text.decode("latin-1") if isinstance(text, bytes) else text

    def text_to_native(text):
        """ASGI text holding ASCII as a native string; ValueError if it is not latin-1."""
        return text.encode("latin-1")
else:
    def text_from_native(text):
        """A native string holding ASCII (a method, a host) as ASGI text."""
        return text

    def text_to_native(text):
        """ASGI text holding ASCII as a native string; ValueError if it is not latin-1."""
        text.encode("latin-1")
        return text


def path_from_native(text):
    """A native-string path (raw UTF-8 bytes) as unicode; ValueError if it is not UTF-8."""
    return from_native(text).decode("utf-8")


def path_to_native(path):
    """A unicode path as a native string holding its UTF-8 bytes."""
    return to_native(path.encode("utf-8"))


# Status lines.

def status_code(line):
    """``"200 OK"`` -> ``200``; ValueError for anything that is not a WSGI status line."""
    if not isinstance(line, str):
        raise ValueError("status must be a native string like '200 OK', not %r" % (line,))
    code = line[:3]
    if not (code.isdigit() and line[3:4] == " " and 100 <= int(code) <= 999):
        raise ValueError("status must start with a three-digit code and a space, like '200 OK', not %r" % (line,))
    if "\r" in line or "\n" in line:
        raise ValueError("status contains a line break: %r" % (line,))
    return int(code)


# Requests.

def request_from_environ(environ):
    """
    The ``http.request`` keys an environ defines (all but ``reply_channel``,
    ``body`` and ``body_channel``). ValueError if the path is not UTF-8 or a
    value is not a valid native string.
    """
    root_path = path_from_native(environ.get("SCRIPT_NAME", ""))
    scheme = environ.get("wsgi.url_scheme", "http")
    version = environ.get("SERVER_PROTOCOL", "HTTP/1.0").partition("/")[2] or "1.0"
    request = {
        u"http_version": u"2" if version in ("2", "2.0") else text_from_native(version),
        u"method": text_from_native(environ["REQUEST_METHOD"].upper()),
        u"scheme": text_from_native(scheme),
        u"root_path": root_path,
        u"path": root_path + path_from_native(environ.get("PATH_INFO", "")),
        u"query_string": from_native(environ.get("QUERY_STRING", "")),
        u"headers": _headers_from_environ(environ),
    }
    # A Unix socket has no ports (waitress says "None"): no [host, port] to give.
    remote_port = environ.get("REMOTE_PORT") or "0"
    if environ.get("REMOTE_ADDR") and remote_port.isdigit():
        request[u"client"] = [text_from_native(environ["REMOTE_ADDR"]), int(remote_port)]
    port = environ.get("SERVER_PORT") or str(_DEFAULT_PORTS.get(scheme, 80))
    if environ.get("SERVER_NAME") and port.isdigit():
        request[u"server"] = [text_from_native(environ["SERVER_NAME"]), int(port)]
    return request


def _headers_from_environ(environ):
    headers = []
    for key, value in environ.items():
        # Most keys are neither HTTP_* nor CONTENT_*: one comparison turns them away.
        first = key[:1]
        if first != "H" and first != "C":
            continue
        if key.startswith("HTTP_"):
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if not value:
                continue
            name = key
        else:
            continue
        name = name.lower().replace("_", "-")
        if _NATIVE_IS_BYTES:
            headers.append([name, value])
        else:
            headers.append([name.encode("latin-1"), value.encode("latin-1")])
    return headers


def environ_from_request(message):
    """
    The CGI and ``wsgi.url_scheme`` keys of a WSGI environ for an
    ``http.request`` message. Repeated headers are joined with ``,`` (cookies
    with ``;``); headers whose names hold ``_`` are dropped, since they would
    be indistinguishable from their ``-`` twins (X_Forwarded_For would pass
    for X-Forwarded-For).
    """
    path = message[u"path"]
    root_path = message.get(u"root_path", u"")
    if path.startswith(root_path):
        path = path[len(root_path):]
    scheme = text_to_native(message.get(u"scheme") or u"http")
    environ = {
        "REQUEST_METHOD": text_to_native(message[u"method"]),
        "SCRIPT_NAME": path_to_native(root_path),
        "PATH_INFO": path_to_native(path),
        "QUERY_STRING": to_native(message.get(u"query_string", b"")),
        "SERVER_PROTOCOL": "HTTP/" + text_to_native(message.get(u"http_version", u"1.1")),
        "wsgi.url_scheme": scheme,
    }
    joined = {}
    for name, value in message.get(u"headers", []):
        name = name.lower() if _NATIVE_IS_BYTES else name.lower().decode("latin-1")
        if "_" in name:
            continue
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        if key in joined:
            joined[key] += (b"; " if key == "HTTP_COOKIE" else b",") + value
        else:
            joined[key] = value
    for key, value in joined.items():
        environ[key] = value if _NATIVE_IS_BYTES else value.decode("latin-1")
    server = message.get(u"server")
    if server:
        environ["SERVER_NAME"], environ["SERVER_PORT"] = text_to_native(server[0]), str(server[1])
    else:
        host, _, port = environ.get("HTTP_HOST", "localhost").partition(":")
        environ["SERVER_NAME"] = host
        environ["SERVER_PORT"] = port or str(_DEFAULT_PORTS.get(scheme, 80))
    client = message.get(u"client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = text_to_native(client[0]), str(client[1])
    return environ


def wsgi_environ(message, input_stream, error_stream):
    """
    A complete PEP 3333 environ for an ``http.request`` message, reading its
    body from ``input_stream``. A request with a body in ``body`` alone but
    no Content-Length gets a CONTENT_LENGTH; a request without a body gets
    none, as from any WSGI server.
    """
    environ = environ_from_request(message)
    body = message.get(u"body", b"")
    if body and "CONTENT_LENGTH" not in environ and u"body_channel" not in message:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update({
        "wsgi.version": (1, 0),
        "wsgi.input": input_stream,
        "wsgi.errors": error_stream,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
    })
    return environ


# Response headers.

def headers_from_wsgi(headers):
    """
    WSGI response headers (a list of native string pairs) as ASGI ones
    (``[name, value]`` byte strings, names lower-cased, order kept).
    ValueError for anything else, or for a CR or LF anywhere in them.
    """
    if not isinstance(headers, list):
        raise ValueError("response headers must be a list of (name, value) pairs, not %s" % type(headers).__name__)
    converted = []
    for header in headers:
        if not (isinstance(header, (tuple, list)) and len(header) == 2
                and isinstance(header[0], str) and isinstance(header[1], str)):
            raise ValueError("each response header must be a (name, value) pair of native strings, not %r" % (header,))
        name, value = header
        both = name + value
        if "\r" in both or "\n" in both:
            raise ValueError("header %r contains a line break: %r" % (name, value))
        if _NATIVE_IS_BYTES:
            converted.append([name.lower(), value])
        else:
            converted.append([name.lower().encode("latin-1"), value.encode("latin-1")])
    return converted


def headers_to_wsgi(headers):
    """ASGI response headers as WSGI ones, without the hop-by-hop headers PEP 3333 forbids."""
    return [(to_native(name), to_native(value)) for name, value in headers if name.lower() not in HOP_BY_HOP]
