"""
End to end: a Django site behind the WSGI -> ASGI -> WSGI bridge answers
exactly as the same site served directly.

Two real HTTP servers (waitress, on 127.0.0.1) run in this process:

* direct:  waitress -> Django's WSGI application
* bridged: waitress -> WsgiToAsgiAdapter -> in-memory ChannelLayer
           -> AsgiToWsgiAdapter worker threads -> the same Django application

Every test makes the same request(s) of both, with a real HTTP client, and
requires the same status, body and headers (names compared without regard to
case; Date left out since it is the time of sending), and also checks what
the response should contain, so a fault shared by both sides fails too.
Header fields are compared in the order they arrive; waitress writes them
sorted by name, keeping the order of repeated ones (such as Set-Cookie).

The same two applications are also served a second time under the URL prefix
/mount, where waitress puts the prefix in SCRIPT_NAME.

On Python 3.9 and later every test runs a second time with the ASGI 3 front
(uvicorn -> ChannelLayerApplication -> the same layer and workers) as the
bridged side; its replies are compared with header fields sorted by name
(repeats kept in order) and without the Server and Connection fields, since
uvicorn writes fields in the application's order, names itself and keeps
connections open where waitress closes them.

The Django project is tests/apps/django_site.
"""
from __future__ import absolute_import, unicode_literals

import hashlib
import json
import os
import re
import sys
import threading
import time
import uuid

import pytest
import requests
import waitress
from waitress import wasyncore

# Django is a test dependency (tox.ini), not an extra: without it this module skips.
django = pytest.importorskip("django")
SETTINGS = "tests.apps.django_site.settings"

#: Seconds any HTTP request may take before the test fails instead of hanging.
HTTP_TIMEOUT = 30
#: Seconds a thread may take to finish once told to stop.
JOIN_TIMEOUT = 10
#: The URL prefix of the second pair of servers (waitress wants a native string).
MOUNT = str("/mount")
MIB = 1024 * 1024
#: The ASGI 3 front runs here too (Python 3.9+, uvicorn installed).
try:
    ASGI3 = sys.version_info >= (3, 9) and bool(__import__("uvicorn"))
except ImportError:
    ASGI3 = False
#: The fronts each test runs against: the bridged side of every pair.
FRONTS = ["waitress", "uvicorn"] if ASGI3 else ["waitress"]
#: Bodies longer than this are compared by length and SHA-256, to keep failure reports readable.
SHOW_BODY_UP_TO = 64 * 1024


# Responses.

class Reply(object):
    """What a client saw of one HTTP response."""

    def __init__(self, response, body=None, any_server=False):
        """
        ``body``: the body, when it was already read from a streamed
        ``response``; ``any_server``: headers sorted by name, without Server and
        Connection (how each server manages connections is its own).
        """
        self.url = response.url
        self.status = response.status_code
        self.reason = response.reason
        # Names lower-cased (the bridge lower-cases them, HTTP ignores case);
        # Date left out: it is when each server answered.
        left_out = ("date", "server", "connection") if any_server else ("date",)
        self.headers = [(name.lower(), value) for name, value in wire_headers(response) if name.lower() not in left_out]
        if any_server:
            self.headers.sort(key=lambda header: header[0])
        self.body = response.content if body is None else body
        # Holding on to the response would keep its connection open.
        response.close()

    def header_values(self, name):
        return [value for header, value in self.headers if header == name]

    def header(self, name):
        values = self.header_values(name)
        assert len(values) == 1, "expected one %s header, got %r" % (name, values)
        return values[0]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8")

    def comparable(self, normalise=None):
        """Status, reason, headers and body, after ``normalise`` (a function of the reply)."""
        status, reason, headers, body = normalise(self) if normalise else (
            self.status, self.reason, self.headers, self.body)
        if len(body) > SHOW_BODY_UP_TO:
            body = "%d bytes with SHA-256 %s" % (len(body), hashlib.sha256(body).hexdigest())
        return {"status": status, "reason": reason, "headers": headers, "body": body}


def wire_headers(response):
    """
    The response's header fields exactly as they came, in order, repeats
    kept (requests' own ``headers`` joins repeated fields into one).
    """
    message = response.raw._original_response.msg
    if sys.version_info[0] >= 3:
        return list(message.items())
    # Python 2: a mimetools.Message keeps the raw lines, continuations included.
    fields = []
    for line in message.headers:
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
        else:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return fields


def assert_same(direct, bridged, normalise=None):
    """The bridged reply must be the direct one: status, reason, every header in order, body."""
    assert bridged.comparable(normalise) == direct.comparable(normalise)


# Clients.

class Client(object):
    """One server, seen through a cookie jar of its own."""

    def __init__(self, name, port, any_server=False):
        self.name = name
        self.port = port
        self.any_server = any_server
        self.base = "http://127.0.0.1:%d" % port
        self.session = requests.Session()

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.reply(self.session.request(method, self.base + path, **kwargs))

    def reply(self, response, body=None):
        return Reply(response, body, self.any_server)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def close(self):
        self.session.close()


class Pair(object):
    """The direct and the bridged server, each with a fresh client."""

    def __init__(self, direct_port, bridged_port, any_server=False):
        self.direct = Client("direct", direct_port, any_server)
        self.bridged = Client("bridged", bridged_port, any_server)
        self.sides = (self.direct, self.bridged)

    def request(self, method, path, normalise=None, **kwargs):
        """Send one request to each side; assert the replies are the same; return both."""
        direct = self.direct.request(method, path, **kwargs)
        bridged = self.bridged.request(method, path, **kwargs)
        assert_same(direct, bridged, normalise)
        return direct, bridged

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def close(self):
        for client in self.sides:
            client.close()


# Servers.

class Server(object):
    """
    A waitress server on 127.0.0.1, on a free port, run by a daemon thread.

    The thread runs waitress's event loop a short turn at a time, so that it
    can be told to stop, and then closes the listening socket and every
    connection itself: closing sockets from another thread while the loop
    polls them makes select() fail with EBADF.
    """

    def __init__(self, app, name, **options):
        self.name = name
        self.channels = {}  # waitress's socket map: the listener and every open connection
        # clear_untrusted_proxy_headers: the default from waitress 2 on, stated
        # so that waitress 1 (Python 2) does not warn about its change.
        self.server = waitress.create_server(
            app, map=self.channels, host="127.0.0.1", port=0, clear_untrusted_proxy_headers=True, **options)
        self.port = int(self.server.effective_port)  # a string in some waitress versions
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="e2e-waitress-" + name)
        self.thread.daemon = True
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            wasyncore.loop(timeout=0.05, map=self.channels, count=1)
        wasyncore.close_all(self.channels)

    def close(self):
        self.stopping.set()
        self.thread.join(JOIN_TIMEOUT)
        self.server.task_dispatcher.shutdown(timeout=JOIN_TIMEOUT)


class Servers(object):
    def __init__(self):
        self.started = []

    def serve(self, app, name, **options):
        server = Server(app, name, **options)
        self.started.append(server)
        return server.port

    def close(self):
        still_running = []
        for server in self.started:
            server.close()
            if server.thread.is_alive():
                still_running.append(server.name)
        assert not still_running, "waitress servers that did not stop: %s" % still_running


def wait_for_threads_to_end(threads, timeout):
    deadline = time.time() + timeout
    left = [thread for thread in threads if thread.is_alive()]
    while left and time.time() < deadline:
        left[0].join(max(0.0, deadline - time.time()))
        left = [thread for thread in left if thread.is_alive()]
    return left


@pytest.fixture(scope="module")
def django_app():
    # Set only while Django sets itself up: put in os.environ for good, the
    # variable would reach every command another module starts, whose
    # applications choose their own settings.
    previous = os.environ.get("DJANGO_SETTINGS_MODULE")
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    try:
        django.setup()
        from django.core.wsgi import get_wsgi_application
        return get_wsgi_application()
    finally:
        if previous is None:
            del os.environ["DJANGO_SETTINGS_MODULE"]
        else:
            os.environ["DJANGO_SETTINGS_MODULE"] = previous


@pytest.fixture(scope="module")
def ports(django_app):
    """
    Ports of the servers: direct and bridged, each also under MOUNT. On
    teardown every thread started here must have ended.
    """
    from asgiref.inmemory import ChannelLayer
    from asgiref.wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter

    threads_before = set(threading.enumerate())
    servers = Servers()
    layer = ChannelLayer()
    front = WsgiToAsgiAdapter(layer)
    workers = AsgiToWsgiAdapter(django_app, layer)
    workers.start(threads=4)
    uvicorns = []
    try:
        ports = {
            "direct": servers.serve(django_app, "direct"),
            "waitress": servers.serve(front, "bridged"),
            "direct_mounted": servers.serve(django_app, "direct-mounted", url_prefix=MOUNT),
            "waitress_mounted": servers.serve(front, "bridged-mounted", url_prefix=MOUNT),
        }
        if ASGI3:
            from asgiref.asgi3 import ChannelLayerApplication
            from tests.asgi3_servers import Uvicorn, mounted
            asgi3_front = ChannelLayerApplication(layer)
            uvicorns = [Uvicorn(asgi3_front), Uvicorn(mounted(asgi3_front, MOUNT))]
            ports["uvicorn"], ports["uvicorn_mounted"] = [server.port for server in uvicorns]
        yield ports
    finally:
        try:
            for server in uvicorns:
                server.close()
            servers.close()
        finally:
            # Idle worker threads end when their current receive from the layer returns.
            workers.stop(timeout=JOIN_TIMEOUT)
    started = [thread for thread in threading.enumerate() if thread not in threads_before]
    left = wait_for_threads_to_end(started, JOIN_TIMEOUT)
    assert not left, "threads still running after the servers and both adapters stopped: %r" % left


@pytest.fixture(params=FRONTS)
def pair(ports, request):
    pair = Pair(ports["direct"], ports[request.param], any_server=request.param != "waitress")
    yield pair
    pair.close()


@pytest.fixture(params=FRONTS)
def mounted_pair(ports, request):
    pair = Pair(ports["direct_mounted"], ports[request.param + "_mounted"], any_server=request.param != "waitress")
    yield pair
    pair.close()


# Query strings, paths, request headers.

QUERY = "colour=red&colour=green&name=caf%C3%A9&space=a+b&enc=%26%3D%2B%25&empty=&flag&colour=blue"


def test_get_with_query_string_repeated_keys_and_percent_escapes(pair):
    header = "some value; with=odd, characters"
    direct, bridged = pair.get("/echo/?" + QUERY, headers={"X-E2E-Header": header})
    assert direct.status == 200
    assert direct.header("content-type") == "application/json"
    echoed = direct.json()
    assert echoed["method"] == "GET"
    assert echoed["query"] == [
        ["colour", ["red", "green", "blue"]],
        ["empty", [""]],
        ["enc", ["&=+%"]],
        ["flag", [""]],
        ["name", ["caf\u00e9"]],
        ["space", ["a b"]],
    ]
    # The query string reaches Django as sent, escapes and all.
    assert echoed["meta_query_string"] == QUERY
    assert echoed["full_path"] == "/echo/?" + QUERY
    assert echoed["path"] == echoed["path_info"] == echoed["meta_path_info"] == "/echo/"
    assert echoed["meta_script_name"] == ""
    assert echoed["custom_header"] == header
    assert echoed["body_size"] == 0
    assert echoed["cookies"] == []


def test_non_ascii_path(pair):
    direct, bridged = pair.get("/caf\u00e9/?q=%C3%A9t%C3%A9")
    assert direct.url.endswith("/caf%C3%A9/?q=%C3%A9t%C3%A9")
    assert direct.status == 200
    echoed = direct.json()
    assert echoed["path"] == echoed["path_info"] == echoed["meta_path_info"] == "/caf\u00e9/"
    assert echoed["full_path"] == "/caf%C3%A9/?q=%C3%A9t%C3%A9"
    # The query string stays as sent; Django decodes it.
    assert echoed["meta_query_string"] == "q=%C3%A9t%C3%A9"
    assert echoed["query"] == [["q", ["\u00e9t\u00e9"]]]

    # A character outside latin-1, which a WSGI native string cannot hold as itself.
    direct, bridged = pair.get("/snow-\u2603/")
    assert direct.status == 200
    echoed = direct.json()
    assert echoed["path"] == echoed["path_info"] == echoed["meta_path_info"] == "/snow-\u2603/"
    assert echoed["full_path"] == "/snow-%E2%98%83/"


def test_server_and_client_addresses(pair):
    # The two servers listen on different ports, which the replies mention:
    # check each side's own port, then compare with the port blanked out.
    replies = []
    for client in pair.sides:
        reply = client.get("/whoami/")
        assert reply.status == 200
        seen = reply.json()
        # The name waitress gives 127.0.0.1 depends on its version; it is
        # compared between the sides below.
        assert seen.pop("server_name")
        assert seen == {
            "scheme": "http",
            "is_secure": False,
            "host": "127.0.0.1:%d" % client.port,
            "port": "%d" % client.port,
            "server_protocol": "HTTP/1.1",
            "remote_addr": "127.0.0.1",
        }
        replies.append((client.port, reply))

    def without_port(port):
        def normalise(reply):
            body = reply.body.replace(str(port).encode("ascii"), b"<port>")
            if pair.bridged.any_server:
                # Each server names 127.0.0.1 its own way: waitress by its default.
                body = re.sub(b'"server_name": "[^"]*"', b'"server_name": "<name>"', body)
            # Content-Length follows the body; both bodies are checked above.
            headers = [(name, value) for name, value in reply.headers if name != "content-length"]
            return reply.status, reply.reason, headers, body
        return normalise

    (direct_port, direct), (bridged_port, bridged) = replies
    assert bridged.comparable(without_port(bridged_port)) == direct.comparable(without_port(direct_port))


def test_mounted_under_a_url_prefix(mounted_pair):
    direct, bridged = mounted_pair.get(MOUNT + "/echo/?a=1")
    assert direct.status == 200
    echoed = direct.json()
    assert echoed["meta_script_name"] == MOUNT
    assert echoed["meta_path_info"] == echoed["path_info"] == "/echo/"
    assert echoed["path"] == MOUNT + "/echo/"
    assert echoed["full_path"] == MOUNT + "/echo/?a=1"

    direct, bridged = mounted_pair.get(MOUNT + "/caf\u00e9/")
    assert direct.status == 200
    echoed = direct.json()
    assert echoed["meta_script_name"] == MOUNT
    assert echoed["path_info"] == "/caf\u00e9/"
    assert echoed["path"] == MOUNT + "/caf\u00e9/"

    direct, bridged = mounted_pair.get(MOUNT + "/no-such-page/")
    assert direct.status == 404


def test_request_bodies_of_several_sizes(pair):
    # The largest is over the in-memory layer's 1 MiB message limit, so it
    # has to cross the layer in several messages.
    big = os.urandom(2 * MIB + 12345)
    for body in (b"", b"x", b"name=value&other=%20", big):
        direct, bridged = pair.request("PUT", "/echo/", data=body, headers={"Content-Type": "application/x-test"})
        assert direct.status == 200
        echoed = direct.json()
        assert echoed["method"] == "PUT"
        assert echoed["content_type"] == "application/x-test"
        assert echoed["body_size"] == len(body)
        assert echoed["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_content_length_is_passed_on_as_sent(pair):
    # PEP 3333: CONTENT_LENGTH holds the request's Content-Length, "may be
    # empty or absent"; a request sent without one must not gain one.
    direct, bridged = pair.get("/body-length/")
    assert direct.json() == {"meta_content_length": None, "body_size": 0}
    for body in (b"", b"12345", os.urandom(MIB + 1)):
        direct, bridged = pair.request("PUT", "/body-length/", data=body)
        assert direct.json() == {"meta_content_length": str(len(body)), "body_size": len(body)}


# CSRF.

TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
COOKIE_TOKEN = re.compile(r"^(csrftoken=)[A-Za-z0-9]+(;.*expires=)[^;]+(;.*)$")


def without_csrf_tokens(reply):
    """
    The form page and its CSRF cookie hold a fresh random token on every
    request, and the cookie's expiry date is a year from the second it was
    set; blank out just those, so that the rest must still match exactly.
    """
    body = TOKEN_FIELD.sub('name="csrfmiddlewaretoken" value="<token>"', reply.text()).encode("utf-8")
    headers = []
    for name, value in reply.headers:
        if name == "set-cookie" and value.startswith("csrftoken="):
            value, count = COOKIE_TOKEN.subn(r"\1<token>\2<expiry>\3", value)
            assert count == 1, value
        headers.append((name, value))
    # Content-Length is left alone: the tokens are the same length on both sides.
    return reply.status, reply.reason, headers, body


def get_form(pair):
    direct, bridged = pair.get("/form/", normalise=without_csrf_tokens)
    tokens = []
    for client, reply in zip(pair.sides, (direct, bridged)):
        assert reply.status == 200
        assert reply.header("content-type") == "text/html; charset=utf-8"
        found = TOKEN_FIELD.findall(reply.text())
        assert len(found) == 1, reply.text()
        [set_cookie] = reply.header_values("set-cookie")
        assert COOKIE_TOKEN.match(set_cookie), set_cookie
        assert client.session.cookies.get("csrftoken"), "%s: no csrftoken cookie kept" % client.name
        tokens.append(found[0])
    return tokens


def test_csrf_protected_form_round_trip(pair):
    direct_token, bridged_token = get_form(pair)
    fields = {"name": "Zo\u00eb \u2603", "tag": ["first", "second"]}
    direct = pair.direct.post("/form/submit/", data=dict(fields, csrfmiddlewaretoken=direct_token))
    bridged = pair.bridged.post("/form/submit/", data=dict(fields, csrfmiddlewaretoken=bridged_token))
    assert_same(direct, bridged)
    assert direct.status == 200
    assert direct.json() == {"fields": [["name", ["Zo\u00eb \u2603"]], ["tag", ["first", "second"]]]}


def test_csrf_token_in_a_request_header(pair):
    direct_token, bridged_token = get_form(pair)
    direct = pair.direct.post("/form/submit/", data={"a": "1"}, headers={"X-CSRFToken": direct_token})
    bridged = pair.bridged.post("/form/submit/", data={"a": "1"}, headers={"X-CSRFToken": bridged_token})
    assert_same(direct, bridged)
    assert direct.status == 200
    assert direct.json() == {"fields": [["a", ["1"]]]}


def test_post_without_csrf_cookie_is_forbidden(pair):
    direct, bridged = pair.post("/form/submit/", data={"name": "x"})
    assert direct.status == 403
    assert b"CSRF verification failed" in direct.body


def test_post_with_csrf_cookie_but_no_token_is_forbidden(pair):
    get_form(pair)
    direct, bridged = pair.post("/form/submit/", data={"name": "x"})
    assert direct.status == 403
    assert b"CSRF verification failed" in direct.body


def test_post_with_a_wrong_csrf_token_is_forbidden(pair):
    get_form(pair)
    direct, bridged = pair.post("/form/submit/", data={"name": "x", "csrfmiddlewaretoken": "A" * 64})
    assert direct.status == 403
    assert b"CSRF verification failed" in direct.body


# Uploads and large bodies.

def test_multipart_upload_of_several_megabytes(pair):
    big = os.urandom(5 * MIB + 7)
    notes = "r\u00e9sum\u00e9\n".encode("utf-8")
    files = [
        ("attachment", ("big.bin", big, "application/octet-stream")),
        ("notes", ("notes.txt", notes, "text/plain")),
        ("notes", ("empty.txt", b"", "text/plain")),
    ]
    data = {"title": "Holiday \u2600", "tags": ["x", "y"]}
    direct, bridged = pair.post("/upload/", files=files, data=data)
    assert direct.status == 200
    assert direct.json() == {
        "files": [
            {"field": "attachment", "name": "big.bin", "size": len(big), "reported_size": len(big),
             "content_type": "application/octet-stream", "sha256": hashlib.sha256(big).hexdigest()},
            {"field": "notes", "name": "notes.txt", "size": len(notes), "reported_size": len(notes),
             "content_type": "text/plain", "sha256": hashlib.sha256(notes).hexdigest()},
            {"field": "notes", "name": "empty.txt", "size": 0, "reported_size": 0,
             "content_type": "text/plain", "sha256": hashlib.sha256(b"").hexdigest()},
        ],
        "fields": [["tags", ["x", "y"]], ["title", ["Holiday \u2600"]]],
    }


def expected_download(size):
    """The download view's bytes: SHA-256 of "block 0", "block 1", ... end to end."""
    data = b"".join(hashlib.sha256(("block %d" % n).encode("ascii")).digest() for n in range((size + 31) // 32))
    return data[:size]


def test_large_response_body(pair):
    size = 3 * MIB + 5
    direct, bridged = pair.get("/download/%d/" % size)
    assert direct.status == 200
    assert direct.header("content-length") == str(size)
    assert direct.header("content-disposition") == 'attachment; filename="data.bin"'
    assert len(direct.body) == size
    assert direct.body == expected_download(size)


def test_head_request_has_the_headers_but_no_body(pair):
    size = 2 * MIB
    direct, bridged = pair.request("HEAD", "/download/%d/" % size)
    assert direct.status == 200
    assert direct.header("content-length") == str(size)
    assert direct.body == b""


# Streaming.

def test_streaming_response_chunks_arrive_in_order(pair):
    direct, bridged = pair.get("/stream/")
    assert direct.status == 200
    assert direct.text() == "".join("chunk %d of 6\n" % n for n in range(1, 7))
    # No length is known in advance, so HTTP/1.1 sends the body chunked.
    assert direct.header_values("content-length") == []
    assert direct.header("transfer-encoding") == "chunked"


def test_streaming_response_is_sent_while_it_is_produced(pair):
    # The view sends a first chunk, then waits (up to 5 s) until the client
    # asks for its release, which it can only do after receiving that chunk.
    replies = []
    for client in pair.sides:
        key = "%s-%s" % (client.name, uuid.uuid4().hex)
        response = client.session.get(
            client.base + "/stream/held/%s/" % key, stream=True, timeout=HTTP_TIMEOUT)
        try:
            pieces = response.iter_content(chunk_size=None)
            first = next(pieces)
            released = requests.get(client.base + "/release/%s/" % key, timeout=HTTP_TIMEOUT)
            assert released.status_code == 200, client.name
            body = first + b"".join(pieces)
        finally:
            response.close()
        assert first == b"first chunk\n", client.name
        assert body == b"first chunk\nreleased by the client\n", client.name
        replies.append(client.reply(response, body))
    assert_same(*replies)


# Redirects, errors.

def test_redirect(pair):
    direct, bridged = pair.get("/redirect/")
    assert direct.status == 302
    assert direct.header("location") == "/echo/?from=redirect&n=1"
    assert direct.body == b""

    # Followed, the redirect lands on the echo view on the same server.
    for client in pair.sides:
        followed = client.session.get(client.base + "/redirect/", timeout=HTTP_TIMEOUT)
        assert [step.status_code for step in followed.history] == [302], client.name
        assert followed.url == client.base + "/echo/?from=redirect&n=1"
        assert followed.json()["query"] == [["from", ["redirect"]], ["n", ["1"]]]


def test_unknown_url_is_django_404(pair):
    for path in ("/no/such/page/", "/na\u00efve/", "/echo/extra/"):
        direct, bridged = pair.get(path)
        assert direct.status == 404, path
        assert direct.header("content-type").startswith("text/html")
        assert b"Not Found" in direct.body


def test_missing_slash_is_redirected(pair):
    # CommonMiddleware's APPEND_SLASH: a permanent redirect, not a 404.
    direct, bridged = pair.get("/echo?a=1")
    assert direct.status == 301
    assert direct.header("location") == "/echo/?a=1"


def test_view_that_raises_gives_django_500_page(pair):
    direct, bridged = pair.get("/boom/")
    assert direct.status == 500
    assert direct.header("content-type").startswith("text/html")
    assert b"Server Error (500)" in direct.body
    # DEBUG is False: no traceback, no exception text.
    assert b"deliberate failure" not in direct.body
    assert b"Traceback" not in direct.body

    # The workers survive it.
    direct, bridged = pair.get("/echo/?after=boom")
    assert direct.status == 200


# Cookies.

def test_several_set_cookie_headers(pair):
    direct, bridged = pair.get("/cookies/")
    assert direct.status == 200
    assert direct.text() == "cookies set\n"
    cookies = direct.header_values("set-cookie")
    assert sorted(cookie.split("=", 1)[0] for cookie in cookies) == ["flavour", "hidden", "scoped", "stale"]
    by_name = dict((cookie.split("=", 1)[0], cookie) for cookie in cookies)
    assert by_name["flavour"].startswith("flavour=oatmeal;")
    # Attribute names are written in lower case by Python 2's Cookie module.
    assert "path=/cookies/" in by_name["scoped"].lower()
    assert "; httponly" in by_name["hidden"].lower()
    assert "expires=fri, 01 jan 2038 00:00:00 gmt" in by_name["hidden"].lower()
    assert "max-age=0" in by_name["stale"].lower()
    # The bridged reply had the same Set-Cookie headers in the same order (assert_same).

    # The clients send back the cookies that apply, through the Cookie header.
    direct, bridged = pair.get("/echo/")
    assert direct.json()["cookies"] == [["flavour", "oatmeal"], ["hidden", "httponly-value"]]


# Many at once.

def test_concurrent_requests_each_get_their_own_response(pair):
    count = 24
    bodies = [os.urandom(64 * 1024 + n) for n in range(count)]
    results = {}

    def send(client, n):
        try:
            response = requests.post(
                "%s/echo/?n=%d" % (client.base, n), data=bodies[n],
                headers={"X-E2E-Header": "request %d" % n}, timeout=HTTP_TIMEOUT)
            results[client.name, n] = client.reply(response)
        except Exception as error:  # reported below
            results[client.name, n] = error

    threads = [threading.Thread(target=send, args=(client, n)) for client in pair.sides for n in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    assert not wait_for_threads_to_end(threads, HTTP_TIMEOUT + JOIN_TIMEOUT)

    for n in range(count):
        direct, bridged = results["direct", n], results["bridged", n]
        assert isinstance(direct, Reply), direct
        assert isinstance(bridged, Reply), bridged
        assert_same(direct, bridged)
        echoed = bridged.json()
        assert echoed["query"] == [["n", [str(n)]]]
        assert echoed["custom_header"] == "request %d" % n
        assert echoed["body_sha256"] == hashlib.sha256(bodies[n]).hexdigest()
