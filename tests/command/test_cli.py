"""
The asgiref command, run as a subprocess on a free port and driven by a real
HTTP client.
"""
from __future__ import absolute_import, unicode_literals

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from six.moves import http_client

from tests.apps import shared_layer

# The command runs in tests/apps/, where it imports the applications it serves (cli_apps, shared_layer, ...).
APPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "apps")
_PYTHON_WARNING = re.compile(r"\S+\.py:\d+: \w*Warning: ")


class Command(object):
    """A running ``python -m asgiref ...``, its stderr collected line by line."""

    def __init__(self, *arguments):
        environment = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "asgiref"] + list(arguments), cwd=APPS, env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self._reader = threading.Thread(target=self._read)
        self._reader.daemon = True
        self._reader.start()

    def _read(self):
        warning_source = False
        for line in iter(self.process.stderr.readline, b""):
            line = line.decode("utf-8", "replace").rstrip("\n")
            # Python's warnings about other packages (cryptography's about
            # Python 3.6 and 3.7, at redis-py's import) are not the command's
            # lines: a warning and the source line after it are left out.
            if _PYTHON_WARNING.match(line):
                warning_source = True
                continue
            if warning_source and line.startswith("  "):
                warning_source = False
                continue
            warning_source = False
            self.lines.append(line)

    def wait_for_line(self, pattern, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError("no line matching %r in:\n%s" % (pattern, "\n".join(self.lines)))

    def url(self):
        return self.wait_for_line(r"at (http://127\.0\.0\.1:(\d+)/)")

    def port(self):
        return int(self.url().group(2))

    def stop(self, timeout=30):
        """SIGTERM, then the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while self.process.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError("the command did not exit:\n%s" % "\n".join(self.lines))
        self._reader.join(10)
        return self.process.returncode


try:
    ASGI3 = sys.version_info >= (3, 9) and bool(__import__("uvicorn"))
except ImportError:
    ASGI3 = False


@pytest.fixture(params=["uvicorn", "waitress"] if ASGI3 else ["waitress"])
def command(request):
    """
    ``command(*arguments)`` starts the command; ``serve`` and ``interface``
    run once with each HTTP server (unless the test names one).
    """
    started = []

    def start(*arguments):
        if arguments and arguments[0] in ("serve", "interface") and "--server" not in arguments:
            arguments += ("--server", request.param)
        started.append(Command(*arguments))
        return started[-1]
    start.server = request.param

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.wait()


def get(port, path, method="GET", body=None, connection=None):
    """One request; returns (status, headers dict, body)."""
    connection = connection or http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    # Native strings: Python 2's httplib cannot mix text with a binary body.
    connection.request(str(method), str(path), body=body)
    response = connection.getresponse()
    return response.status, dict((key.lower(), value) for key, value in response.getheaders()), response.read()


def echoed(method, path, query, body=b""):
    return ("%s %s?%s %s %d" % (method, path, query, hashlib.sha256(body).hexdigest(), len(body))).encode("ascii")


# Serving.

def test_the_demo_page_proves_the_stack_works(command):
    running = command("serve", "--port", "0")
    port = running.port()
    status, headers, body = get(port, "/hello?name=world")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b"asgiref is serving this page through a channel layer" in body
    assert b"/hello" in body and b"name=world" in body
    assert b"asgiref.inmemory.ChannelLayer" in body
    assert re.search(br"messages_count</th><td>[1-9]", body)
    status, _, body = get(port, "/", method="POST", body=b"message=hi")
    assert b"Request body: 10 bytes" in body
    assert running.stop() == 0


def test_the_startup_line_names_the_url_the_layer_and_the_workers(command):
    running = command("serve", "cli_apps:application", "--port", "0", "--workers", "3")
    line = running.url().string
    assert line.startswith("asgiref: serving cli_apps:application at http://127.0.0.1:")
    assert "over asgiref.inmemory.ChannelLayer with 3 worker threads" in line
    assert running.stop() == 0


def test_a_wsgi_application_is_served_with_one_access_log_line_per_request(command):
    running = command("serve", "cli_apps:application", "--port", "0")
    port = running.port()
    body = os.urandom(200 * 1024)
    assert get(port, "/upload?x=1", method="PUT", body=body)[2] == echoed("PUT", "/upload", "x=1", body)
    assert get(port, "/second")[0] == 200
    running.wait_for_line(r'asgiref\.access: 127\.0\.0\.1 "PUT /upload\?x=1 HTTP/1\.1" 200 \d+ \d+\.\d+s')
    running.wait_for_line(r'asgiref\.access: 127\.0\.0\.1 "GET /second HTTP/1\.1" 200')
    assert running.stop() == 0
    assert len([line for line in running.lines if "asgiref.access" in line]) == 2


def django_settings(tmp_path, monkeypatch, text):
    """
    Commands started from now on run tests/django_site with a settings module
    that imports the site's settings and then runs ``text``.
    """
    pytest.importorskip("django")
    (tmp_path / "log_settings.py").write_text("from django_site.settings import *\n" + text)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "log_settings")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path)] + os.environ.get("PYTHONPATH", "").split(
        os.pathsep)))


def lines_saying(running, text):
    return [line for line in running.lines if text in line]


def test_a_django_warning_is_written_once_in_the_command_format(command, tmp_path, monkeypatch):
    # With DEBUG on, as a new project has it, Django's default logging has a
    # console handler of its own on the "django" logger.
    django_settings(tmp_path, monkeypatch, "DEBUG = True\n")
    running = command("serve", "django_site.wsgi", "--port", "0")
    assert get(running.port(), "/no-such-page/")[0] == 404
    running.wait_for_line(r'asgiref\.access: 127\.0\.0\.1 "GET /no-such-page/ HTTP/1\.1" 404')
    assert running.stop() == 0
    said = lines_saying(running, "Not Found: /no-such-page/")
    assert len(said) == 1, "\n".join(running.lines)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING django\.request: Not Found: /no-such-page/\Z",
                    said[0])


def test_a_project_that_configures_the_django_logger_keeps_its_own_handler(command, tmp_path, monkeypatch):
    django_settings(tmp_path, monkeypatch, """DEBUG = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"project": {"format": "project says %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "project"}},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
""")
    running = command("serve", "django_site.wsgi", "--port", "0")
    assert get(running.port(), "/no-such-page/")[0] == 404
    running.wait_for_line(r'asgiref\.access: 127\.0\.0\.1 "GET /no-such-page/ HTTP/1\.1" 404')
    assert running.stop() == 0
    assert lines_saying(running, "Not Found: /no-such-page/") == ["project says WARNING Not Found: /no-such-page/"]


def test_python_dash_m_and_the_console_script_are_the_same_command():
    script = os.path.join(os.path.dirname(sys.executable), "asgiref")
    assert os.path.exists(script), "the asgiref console script is not installed"
    for executable in ([script], [sys.executable, "-m", "asgiref"]):
        output = subprocess.check_output(executable + ["serve", "--help"])
        assert b"--layer-option" in output and b"--max-body" in output


def test_keep_alive_connections_are_reused(command):
    running = command("serve", "cli_apps:application", "--port", "0")
    connection = http_client.HTTPConnection("127.0.0.1", running.port(), timeout=30)
    get(connection.port, "/one", connection=connection)
    sock = connection.sock
    for path in ("/two", "/three"):
        assert get(connection.port, path, connection=connection)[2] == echoed("GET", path, "")
        assert connection.sock is sock
    connection.close()
    assert running.stop() == 0


def test_fifty_concurrent_clients_of_twenty_requests_each_are_all_answered(command):
    running = command("serve", "cli_apps:application", "--port", "0", "--log-level", "WARNING")
    port = running.port()
    failures = []

    def client(number):
        connection = http_client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for request in range(20):
                path = "/client%d/request%d" % (number, request)
                status, _, body = get(port, path + "?n=%d" % request, connection=connection)
                if status != 200 or body != echoed("GET", path, "n=%d" % request):
                    failures.append((path, status, body))
        except Exception as error:
            failures.append((number, repr(error)))

    clients = [threading.Thread(target=client, args=(number,)) for number in range(50)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(120)
    assert failures == []
    assert running.stop() == 0


def test_sigterm_lets_a_slow_request_finish_then_exits_0(command):
    running = command("serve", "cli_apps:slow", "--port", "0")
    port = running.port()
    result = []
    client = threading.Thread(target=lambda: result.append(get(port, "/slow")))
    client.start()
    running.wait_for_line("slow request started")
    running.process.send_signal(signal.SIGTERM)
    running.wait_for_line("stopping")
    # New connections are refused once stopping has begun.
    deadline = time.time() + 5
    refused = False
    while not refused and time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.05)
        except socket.error:
            refused = True
    assert refused
    client.join(30)
    assert result and result[0][0] == 200 and result[0][2] == b"slow but complete"
    assert running.wait() == 0


def test_max_body_reaches_waitress_so_an_announced_oversize_body_is_refused_unread(command):
    running = command("serve", "cli_apps:application", "--port", "0", "--max-body", "1K")
    sock = socket.create_connection(("127.0.0.1", running.port()), timeout=10)
    # 200 MB announced, none sent: waitress answers without waiting for them.
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n")
    answer = sock.recv(65536)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert get(running.port(), "/upload", method="POST", body=b"x" * 1024)[2] == echoed(
        "POST", "/upload", "", b"x" * 1024)
    assert running.stop() == 0


def test_connection_limit_and_channel_timeout_reach_waitress(command):
    running = command("serve", "cli_apps:application", "--port", "0", "--connection-limit", "1",
                      "--channel-timeout", "1", "--server", "waitress")
    port = running.port()
    idle = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    assert get(port, "/idle", connection=idle)[2] == echoed("GET", "/idle", "")
    # The one connection allowed is taken; the next is served once the idle
    # one is closed for its inactivity.
    assert get(port, "/next")[2] == echoed("GET", "/next", "")
    assert idle.sock.recv(1) == b""
    idle.close()
    assert running.stop() == 0


def test_a_stop_takes_one_timeout_even_with_a_request_stuck_in_the_application(command):
    running = command("serve", "cli_apps:stuck", "--port", "0", "--timeout", "4")
    port = running.port()
    client = threading.Thread(target=lambda: get(port, "/stuck"))
    client.daemon = True
    client.start()
    running.wait_for_line("stuck request started")
    started = time.time()
    running.process.send_signal(signal.SIGTERM)
    assert running.wait() == 0
    # The HTTP drain and the workers' stop share the one --timeout; they
    # took two of them, plus waitress's 5 s for its own threads (13 s). The
    # bound is the promise, not a speed: one timeout, with room for a busy
    # machine to exit, and short of the two it used to take.
    assert time.time() - started < 4 * 2
    running.wait_for_line("stopped with requests still in flight after 4.0s")


# Two processes over a cross-process layer.

def test_interface_and_worker_processes_serve_together_over_a_shared_layer(command):
    port = shared_layer.serve_in_thread()
    layer = ["--layer", "shared_layer:SharedLayer", "--layer-option", "port=%d" % port]
    interface = command("interface", "--port", "0", "--server", "waitress", *layer)
    worker = command("worker", "cli_apps:application", "--workers", "2", *layer)
    worker.wait_for_line("asgiref: worker serving cli_apps:application from shared_layer.SharedLayer "
                         "with 2 worker threads")
    line = interface.wait_for_line(r"asgiref: interface at (http://127\.0\.0\.1:(\d+)/) \(waitress\), "
                                   r"sending requests over shared_layer\.SharedLayer")
    http_port = int(line.group(2))
    body = os.urandom(100 * 1024)
    assert get(http_port, "/split?a=b", method="POST", body=body)[2] == echoed("POST", "/split", "a=b", body)
    assert interface.stop() == 0
    assert worker.stop() == 0


@pytest.mark.parametrize("half", [["interface"], ["worker", "cli_apps:application"]])
def test_the_halves_refuse_the_in_memory_layer(command, half):
    running = command(*half)
    assert running.wait() == 2
    assert running.lines == [
        "asgiref: error: asgiref %s needs a layer other processes can reach; the in-memory layer lives in one "
        "process (use asgiref serve, or --layer)" % half[0]]


# Bad arguments: one line on stderr, exit code 2, no traceback.

@pytest.mark.parametrize("arguments, message", [
    (["serve", "no_such_module:app"],
     r"cannot import application no_such_module: (ModuleNotFoundError|ImportError): No module named"),
    (["serve", "cli_apps:missing"], r"application: module cli_apps has no attribute 'missing'"),
    (["serve", "cli_apps:not_callable"], r"application cli_apps:not_callable is a int, not a WSGI application"),
    (["serve", "--layer", "no_such_module:Layer"], r"cannot import layer no_such_module"),
    (["serve", "--layer", "cli_apps:application"], r"layer cli_apps:application is a function, not a channel layer"),
    (["serve", "--layer", "asgiref.inmemory:ChannelLayer", "--layer-option", "capacity=0"],
     r"cannot construct layer asgiref\.inmemory:ChannelLayer: ValueError: capacity must be at least 1, not 0"),
    (["serve", "--layer", "asgiref.inmemory:ChannelLayer", "--layer-option", "colour='blue'"],
     r"cannot construct layer asgiref\.inmemory:ChannelLayer: TypeError: .*colour"),
    (["serve", "--layer", "asgiref.inmemory:channel_layer", "--layer-option", "capacity=5"],
     r"--layer-option needs --layer to name a class; asgiref\.inmemory:channel_layer is an instance"),
    (["serve", "--port", "abc"], r"argument --port: 'abc' is not a whole number \(see asgiref serve --help\)"),
    (["serve", "--port", "70000"], r"argument --port: port must be from 0 to 65535, not 70000"),
    (["serve", "--workers", "0"], r"argument --workers: must be at least 1, not 0"),
    (["serve", "--threads", "many"], r"argument --threads: 'many' is not a whole number"),
    (["serve", "--timeout", "-1"], r"argument --timeout: must be above 0, not -1"),
    (["serve", "--timeout", "inf"], r"argument --timeout: must be a finite number of seconds, not inf"),
    (["serve", "--timeout", "nan"], r"argument --timeout: must be a finite number of seconds, not nan"),
    (["interface", "--timeout", "1e400"], r"argument --timeout: must be a finite number of seconds, not 1e400"),
    (["serve", "--max-body", "10X"], r"argument --max-body: '10X' is not a size in bytes"),
    (["serve", "--connection-limit", "0"], r"argument --connection-limit: must be at least 1, not 0"),
    (["interface", "--channel-timeout", "0.5"], r"argument --channel-timeout: '0.5' is not a whole number"),
    (["serve", "--log-level", "LOUD"], r"argument --log-level: 'LOUD' is not DEBUG, INFO, WARNING or ERROR"),
    (["serve", "--layer-option", "novalue"], r"argument --layer-option: 'novalue' is not KEY=VALUE"),
    (["serve", "--layer-option", "2x=1"], r"argument --layer-option: '2x=1' is not KEY=VALUE"),
    (["serve", "--layer-option", "capacity=0"],
     r"cannot construct layer asgiref\.inmemory:ChannelLayer: ValueError: capacity must be at least 1, not 0"),
    (["serve", "--layer", "http://127.0.0.1:6379/0"],
     r"--layer: http://127\.0\.0\.1:6379/0 is not a redis://, rediss:// or unix:// URL, the URL schemes of the "
     r"Redis layer \(another layer is given as module:attribute\)"),
    (["worker", "--layer", "redis://127.0.0.1:6379/abc"],
     r"--layer: the db in redis://127\.0\.0\.1:6379/abc is 'abc', not a number$"),
    (["interface", "--layer", "unix:///run/redis.sock?db=one"],
     r"--layer: the db in unix:///run/redis\.sock\?db=one is 'one', not a number$"),
    (["serve", "--layer", "redis://:hunter2@127.0.0.1:port/0"],
     r"--layer: the port in redis://:\*\*\*@127\.0\.0\.1:port/0 is 'port', not a number from 1 to 65535$"),
    (["serve", "--colour"], r"unrecognized arguments: --colour"),
    (["launch"], r"argument COMMAND: invalid choice: 'launch'"),
    ([], r"the following arguments are required: COMMAND|too few arguments"),
])
def test_a_bad_argument_is_one_line_and_exit_code_2(command, arguments, message):
    running = command(*arguments)
    assert running.wait() == 2
    assert len(running.lines) == 1, running.lines
    assert running.lines[0].startswith("asgiref: error: ")
    assert re.search(message, running.lines[0]), running.lines[0]


@pytest.mark.skipif(not hasattr(threading, "TIMEOUT_MAX"), reason="Python 2's timed waits poll: no longest wait")
def test_a_timeout_longer_than_a_thread_can_wait_is_refused(command):
    running = command("serve", "--timeout", "1e300")
    assert running.wait() == 2
    assert running.lines == ["asgiref: error: argument --timeout: must be at most %d seconds, not 1e300 "
                             "(see asgiref serve --help)" % threading.TIMEOUT_MAX]


def test_a_port_in_use_is_one_line_and_exit_code_2(command):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        running = command("serve", "--port", str(taken.getsockname()[1]))
        assert running.wait() == 2
    finally:
        taken.close()
    assert len(running.lines) == 1
    assert re.match(r"asgiref: error: cannot listen on 127\.0\.0\.1 port \d+: .*[Aa]ddress already in use",
                    running.lines[0])


def test_help_explains_every_option():
    output = subprocess.check_output([sys.executable, "-m", "asgiref", "serve", "--help"]).decode("utf-8")
    for option in ("--host", "--port", "--workers", "--threads", "--layer ", "--layer-option", "--timeout",
                   "--max-body", "--connection-limit", "--channel-timeout", "--log-level"):
        assert option in output
    assert "default: 127.0.0.1" in output and "default: 8000" in output
    # waitress's own defaults.
    expected = "connections open at once; more wait to be accepted (uvicorn: are answered 503) (default: 100)"
    assert expected in " ".join(output.split())
    assert "idle this many whole seconds (default: 120)" in " ".join(output.split())


def test_interface_takes_the_http_options_too():
    output = subprocess.check_output([sys.executable, "-m", "asgiref", "interface", "--help"]).decode("utf-8")
    for option in ("--max-body", "--connection-limit", "--channel-timeout", "--threads"):
        assert option in output


def test_serve_gives_the_in_memory_layer_room_for_100_requests_unless_told_otherwise():
    # The layer's own default is asgiref 1.1's 10; serve asks for more itself.
    from asgiref.command import cli
    assert cli._layer(cli._parser().parse_args(["serve"])).capacity == 100
    assert cli._layer(cli._parser().parse_args(["serve", "--layer-option", "capacity=7"])).capacity == 7


# Unix sockets, consumers, the live demo.

@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_a_unix_socket_is_served_and_removed_at_the_end(command, tmp_path):
    path = str(tmp_path / "asgiref.sock")
    running = command("serve", "cli_apps:application", "--unix-socket", path)
    running.wait_for_line(r"at unix:%s" % re.escape(path))
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(30)
    client.connect(path)
    client.sendall(b"GET /over-unix HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = b""
    while True:
        data = client.recv(65536)
        if not data:
            break
        answer += data
    client.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(echoed("GET", "/over-unix", ""))
    assert running.stop() == 0
    assert not os.path.exists(path)


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front needs Python 3.9+ and uvicorn")
@pytest.mark.parametrize("where", [[], ["--consumers-on-loop"]])
def test_a_consumer_module_answers_http_and_websocket(command, where):
    from websockets.sync.client import connect
    running = command("serve", "--consumers", "cli_apps:routes", "--port", "0", "--server", "uvicorn", *where)
    port = running.port()
    assert get(port, "/page")[2] == b"consumed /page"
    with connect("ws://127.0.0.1:%d/chat" % port) as websocket:
        websocket.send("hello")
        assert websocket.recv(30) == "echo: hello"
    assert running.stop() == 0


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front needs Python 3.9+ and uvicorn")
def test_the_demo_page_shows_the_layer_live_over_a_websocket(command):
    import json
    from websockets.sync.client import connect
    running = command("serve", "--port", "0", "--server", "uvicorn")
    port = running.port()
    assert b'+ location.host + "/live-statistics"' in get(port, "/")[2]
    with connect("ws://127.0.0.1:%d/live-statistics" % port) as websocket:
        first = json.loads(websocket.recv(30))
        get(port, "/")
        later = json.loads(websocket.recv(30))
    assert first["http.request"]["messages_count"] >= 1
    assert later["http.request"]["messages_count"] > first["http.request"]["messages_count"]
    assert running.stop() == 0


def test_consumers_on_the_loop_need_consumers_and_uvicorn(command):
    running = command("serve", "--consumers-on-loop", "--server", "waitress")
    assert running.wait() == 2
    assert running.lines == ["asgiref: error: --consumers-on-loop needs --consumers and --server uvicorn"]


@pytest.mark.skipif(not ASGI3, reason="the ASGI 3 front needs Python 3.9+ and uvicorn")
def test_uvicorn_refuses_a_layer_without_receive_async(command):
    port = shared_layer.serve_in_thread()
    running = command("interface", "--server", "uvicorn", "--layer", "shared_layer:SharedLayer",
                      "--layer-option", "port=%d" % port)
    assert running.wait() == 2
    assert running.lines == [
        "asgiref: error: --server uvicorn needs a layer with receive_async; shared_layer.SharedLayer has none "
        "(use --server waitress)"]
