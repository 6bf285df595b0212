"""
Views whose responses depend only on the request, so two servers given the
same request must answer alike. JSON bodies have sorted keys; every list in
them has a fixed order.
"""
from __future__ import unicode_literals

import hashlib
import threading

from django.http import (
    HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse,
)
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

#: The hidden field the CSRF middleware reads a form's token from.
CSRF_FIELD = "csrfmiddlewaretoken"

#: What the streaming view yields, one item per chunk.
STREAM_CHUNKS = ["chunk %d of 6\n" % number for number in range(1, 7)]

#: Seconds the held stream waits for its release before it gives up.
RELEASE_WAIT = 5

#: When a cookie set by the cookies view expires: fixed, so the header is too.
FIXED_EXPIRY = "Fri, 01 Jan 2038 00:00:00 GMT"


def sorted_json(data, status=200):
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"sort_keys": True})


def as_text(value):
    """
    A META value as text. WSGI gives "native strings": bytes on Python 2,
    text with one character per byte on Python 3; bytes are shown the way
    Python 3 shows them, so the JSON is the same on every Python. (Django
    replaces META's PATH_INFO and SCRIPT_NAME with decoded text itself.)
    """
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def query_lists(query_dict):
    """A QueryDict as ``[[key, [values in order]], ...]`` sorted by key."""
    return sorted([key, list(values)] for key, values in query_dict.lists())


def deterministic_bytes(size):
    """``size`` bytes that look random but are the same on every call: SHA-256 in counter mode."""
    blocks = []
    for counter in range((size + 31) // 32):
        blocks.append(hashlib.sha256(("block %d" % counter).encode("ascii")).digest())
    return b"".join(blocks)[:size]


@csrf_exempt
def echo(request):
    """
    What Django made of the request: paths, query, a custom header, cookies
    and body. Nothing here depends on which server the request went to (see
    whoami for that).
    """
    meta = request.META
    body = request.body
    return sorted_json({
        "method": request.method,
        "path": request.path,
        "path_info": request.path_info,
        "full_path": request.get_full_path(),
        "meta_script_name": as_text(meta.get("SCRIPT_NAME", "")),
        "meta_path_info": as_text(meta.get("PATH_INFO", "")),
        "meta_query_string": as_text(meta.get("QUERY_STRING", "")),
        "query": query_lists(request.GET),
        "custom_header": meta.get("HTTP_X_E2E_HEADER"),
        "content_type": meta.get("CONTENT_TYPE"),
        "cookies": sorted([name, value] for name, value in request.COOKIES.items()),
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    })


@csrf_exempt
def body_length(request):
    """CONTENT_LENGTH as Django was given it (None: absent), and the body's real length."""
    return sorted_json({
        "meta_content_length": request.META.get("CONTENT_LENGTH"),
        "body_size": len(request.body),
    })


def whoami(request):
    """Where Django thinks the request came to and from. Differs between servers by port only."""
    meta = request.META
    return sorted_json({
        "scheme": request.scheme,
        "is_secure": request.is_secure(),
        "host": request.get_host(),
        "port": request.get_port(),
        "server_name": meta.get("SERVER_NAME"),
        "server_protocol": meta.get("SERVER_PROTOCOL"),
        "remote_addr": meta.get("REMOTE_ADDR"),
    })


@require_GET
def form_page(request):
    """A form with the CSRF token in it; calling get_token() makes the middleware set the cookie."""
    page = (
        "<!DOCTYPE html>\n<title>form</title>\n"
        '<form method="post" action="/form/submit/">\n'
        '<input type="hidden" name="%s" value="%s">\n'
        '<input name="name"> <input name="tag"> <button>Send</button>\n'
        "</form>\n"
    ) % (CSRF_FIELD, escape(get_token(request)))
    return HttpResponse(page, content_type="text/html; charset=utf-8")


@require_POST
def form_submit(request):
    """The posted fields, without the CSRF token; only reached when the CSRF check passed."""
    fields = [item for item in query_lists(request.POST) if item[0] != CSRF_FIELD]
    return sorted_json({"fields": fields})


@csrf_exempt
@require_POST
def upload(request):
    """Name, size, content type and SHA-256 of each uploaded file, and the other fields."""
    files = []
    for field in sorted(request.FILES):
        for uploaded in request.FILES.getlist(field):
            digest = hashlib.sha256()
            size = 0
            for chunk in uploaded.chunks():
                digest.update(chunk)
                size += len(chunk)
            files.append({
                "field": field,
                "name": uploaded.name,
                "size": size,
                "reported_size": uploaded.size,
                "content_type": uploaded.content_type,
                "sha256": digest.hexdigest(),
            })
    return sorted_json({"files": files, "fields": query_lists(request.POST)})


def stream(request):
    """A streaming response: no Content-Length, one chunk per item of STREAM_CHUNKS."""
    def chunks():
        for chunk in STREAM_CHUNKS:
            yield chunk.encode("ascii")
    return StreamingHttpResponse(chunks(), content_type="text/plain; charset=utf-8")


_releases = {}
_releases_lock = threading.Lock()


def _release_event(key):
    with _releases_lock:
        return _releases.setdefault(key, threading.Event())


def held_stream(request, key):
    """
    A streaming response that sends its first chunk, then waits for a
    request to /release/<key>/ before the last one. The client can only send
    that request if the first chunk reached it while the response was still
    being produced; the last chunk says whether the release came.
    """
    event = _release_event(key)

    def chunks():
        try:
            yield b"first chunk\n"
            if event.wait(RELEASE_WAIT):
                yield b"released by the client\n"
            else:
                yield b"never released: the first chunk did not reach the client in time\n"
        finally:
            with _releases_lock:
                _releases.pop(key, None)
    return StreamingHttpResponse(chunks(), content_type="text/plain; charset=utf-8")


def release(request, key):
    _release_event(key).set()
    return HttpResponse("released\n", content_type="text/plain; charset=utf-8")


def download(request, size):
    """``size`` bytes of deterministic_bytes() in one ordinary (non-streaming) response."""
    response = HttpResponse(deterministic_bytes(int(size)), content_type="application/octet-stream")
    response["Content-Disposition"] = 'attachment; filename="data.bin"'
    return response


def redirect(request):
    return HttpResponseRedirect("/echo/?from=redirect&n=1")


def boom(request):
    raise RuntimeError("deliberate failure: the 500 test wants Django's stock error page")


def cookies(request):
    """Several cookies, so the response carries several Set-Cookie headers."""
    response = HttpResponse("cookies set\n", content_type="text/plain; charset=utf-8")
    response.set_cookie("flavour", "oatmeal")
    response.set_cookie("scoped", "only-here", path="/cookies/")
    response.set_cookie("hidden", "httponly-value", httponly=True, expires=FIXED_EXPIRY)
    response.delete_cookie("stale")
    return response
