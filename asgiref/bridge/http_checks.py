"""
Whether an ``http.request`` or a response message can be served or passed
on, for both halves of the bridge (spec section 5).
"""
from __future__ import unicode_literals

import six

#: The headers of the plain-text answers the bridge makes up itself.
PLAIN_TEXT = [[b"content-type", b"text/plain; charset=utf-8"]]

#: Seconds a 503 tells the client to wait before it tries again: a failed
#: layer that is back is in use again within 2 s (asgiref.bridge.layer_calls).
RETRY_AFTER = 2

#: The header of every 503 the bridge makes up itself.
RETRY_LATER = [[b"retry-after", str(RETRY_AFTER).encode("ascii")]]

#: What a client is told while the channel layer fails.
UNAVAILABLE = "The server cannot reach its application just now; try again shortly."

_SEQUENCE = (list, tuple)

_REQUEST_TYPES = {
    "method": six.text_type, "path": six.text_type, "query_string": bytes, "root_path": six.text_type,
    "scheme": six.text_type, "http_version": six.text_type, "body": bytes, "body_channel": six.text_type,
    "headers": _SEQUENCE, "client": _SEQUENCE, "server": _SEQUENCE,
}


def request_problem(message):
    """Why an http.request message cannot be served, or None."""
    if "method" not in message or "path" not in message:
        return "no method or no path"
    for key, value in message.items():
        kind = _REQUEST_TYPES.get(key)
        if kind is not None and not isinstance(value, kind):
            return "%r is %s" % (key, type(value).__name__)
    for key in ("client", "server"):
        pair = message.get(key)
        if pair is not None and not (len(pair) == 2 and isinstance(pair[1], six.integer_types)):
            return "%r is not a [host, port] pair" % key
    return _headers_problem(message.get("headers", ()))


def response_problem(message, first):
    """Why a response message cannot be passed on, or None."""
    if first:
        status = message.get("status")
        if not isinstance(status, six.integer_types) or isinstance(status, bool) or not 100 <= status <= 999:
            return "status %r is not an HTTP status code" % (status,)
        headers = message.get("headers", ())
        if not isinstance(headers, _SEQUENCE):
            return "headers are %s, not a list" % type(headers).__name__
        problem = _headers_problem(headers)
        if problem:
            return problem
    if not isinstance(message.get("content", b""), bytes):
        return "content is %s, not bytes" % type(message["content"]).__name__
    if not isinstance(message.get("more_content", False), bool):
        return "more_content is %s, not bool" % type(message["more_content"]).__name__
    return None


def _headers_problem(headers):
    """Why ``headers`` are not ``[name, value]`` byte-string pairs without line breaks, or None."""
    for header in headers:
        if not (isinstance(header, _SEQUENCE) and len(header) == 2
                and isinstance(header[0], bytes) and isinstance(header[1], bytes)):
            return "header %r is not a [name, value] pair of byte strings" % (header,)
        both = header[0] + header[1]
        if b"\r" in both or b"\n" in both:
            return "header %r contains a line break" % (header,)
    return None
