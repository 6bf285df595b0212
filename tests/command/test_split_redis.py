"""
The split deployment end to end, as a new user runs it: README's recipe
(``asgiref interface``, once on each HTTP server, and ``asgiref worker``)
over a real redis-server, serving a site just made by ``django-admin
startproject`` (with the Django installed: 2.2 on Python 3, 1.11 on 2.7)
and a WSGI generator application that answers in chunks. Sequential
clients, concurrent ones, and clients that hang up before or during their
answer beside them: every answer is checked whole, the Django pages against
what Django's own test client gets, each chunk against the request it is for.
"""
from __future__ import absolute_import, unicode_literals

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from six.moves import http_client

from tests.apps.cli_apps import chunk
from tests.redis_servers import redis_server  # noqa: F401 (a fixture)
from tests.command.test_cli import command  # noqa: F401 (a fixture)
from tests.threads import in_thread

#: startproject's pages: the welcome page (DEBUG is on), the admin's login form, a 404.
PAGES = ["/", "/admin/login/", "/nosuch/"]
#: startproject leaves ALLOWED_HOSTS empty, which with DEBUG on allows localhost.
HOST = "localhost"
CLIENTS = 8
CHUNKS = 3

# Run in the site's directory: what Django's own test client gets, as JSON.
_TEST_CLIENT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST=%r)
answers = {}
for path in sys.argv[1:]:
    response = client.get(path)
    answers[path] = [response.status_code, response["Content-Type"], response.content.decode("utf-8")]
print(json.dumps(answers))
""" % str(HOST)


def without_csrf_token(body):
    """``body`` with the CSRF token's value blanked: Django makes a new one for every response."""
    return re.sub(br"""(csrfmiddlewaretoken["'] value=["'])[^"']*""", br"\1", body)


@pytest.fixture(scope="module")
def startproject_site():
    """
    ``django-admin startproject mysite`` in a temporary directory, and what
    Django's test client gets there: (directory, {path: (status, content
    type, body)}).
    """
    pytest.importorskip("django")
    directory = tempfile.mkdtemp(prefix="asgiref-startproject-")
    # Another test module's settings (set when it was imported) are not this site's.
    environment = dict((key, value) for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE")
    try:
        subprocess.check_call([sys.executable, "-m", "django", "startproject", "mysite", directory], env=environment)
        client = subprocess.Popen([sys.executable, "-c", _TEST_CLIENT] + PAGES, cwd=directory, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        output, errors = client.communicate()
        assert client.returncode == 0, errors.decode("utf-8", "replace")
        expected = dict((path, (status, content_type, without_csrf_token(body.encode("utf-8"))))
                        for path, (status, content_type, body) in json.loads(output.decode("utf-8")).items())
        yield directory, expected
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def split(command, redis_server, monkeypatch):  # noqa: F811
    """
    ``split(application, directory=None)``: README's two processes over
    ``redis_server``, the worker importing ``application`` (from
    ``directory`` too); returns the interface, the worker and the HTTP port.
    """
    def start(application, directory=None):
        # The site's wsgi.py sets its settings only where none are set yet.
        monkeypatch.delenv(str("DJANGO_SETTINGS_MODULE"), raising=False)
        if directory is not None:
            monkeypatch.setenv(str("PYTHONPATH"), str(os.pathsep.join([directory, os.environ.get("PYTHONPATH", "")])))
        layer = ["--layer", redis_server.url]
        # A reply that never comes is a 504 after 10 s, not a client waiting for a minute.
        interface = command("interface", "--port", "0", "--timeout", "10", *layer)
        worker = command("worker", application, *layer)
        worker.wait_for_line(r"asgiref: worker serving %s from asgiref\.redis\.RedisChannelLayer" % application)
        return interface, worker, interface.port()
    return start


class Tally(object):
    """
    The answers clients got, counted from any thread; the wrong ones kept. A
    client stops at its first wrong answer: one is enough, and a lost reply
    costs the interface's whole ``--timeout``.
    """

    def __init__(self):
        self.count = 0
        self.wrong = []
        self._lock = threading.Lock()

    def check(self, path, answer, expected):
        """Count ``answer`` (status, content type, body); True if it is ``expected``."""
        with self._lock:
            self.count += 1
            if answer != expected:
                self.wrong.append((path, answer[0], answer[2][:120]))
            return answer == expected

    def error(self, path, error):
        with self._lock:
            self.count += 1
            self.wrong.append((path, None, repr(error)))

    def assert_all_right(self, requests, *processes):
        """Every one of ``requests`` was answered right; if not, say how many were not and what was logged."""
        problems = [line for running in processes for line in running.lines
                    if re.search(r" (WARNING|ERROR|CRITICAL) asgiref|went away", line)]
        assert not self.wrong, "%d wrong answers in %d (clients stop at their first), for example %r; logged:\n%s" % (
            len(self.wrong), self.count, self.wrong[:3], "\n".join(problems[:10]))
        assert self.count == requests


def get(port, path, connection=None):
    """GET ``path`` (on ``connection``, else on a new one): (status, content type, body)."""
    own = connection is None
    if own:
        connection = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(str("GET"), str(path), headers={str("Host"): str(HOST)})
        response = connection.getresponse()
        return response.status, response.getheader("content-type"), response.read()
    finally:
        if own:
            connection.close()


def leave(port, path, until=None, after=0):
    """
    Send GET ``path``, then hang up: once ``until`` has come (or the answer
    ended, or 15 s passed: a 504 comes within 10), else ``after`` seconds
    later; returns what came before.
    """
    client = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        client.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, HOST)).encode("ascii"))
        if until is None:
            time.sleep(after)
            return b""
        received = b""
        while until not in received:
            try:
                data = client.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            received += data
        return received
    finally:
        client.close()


def first_chunk(received):
    """(status, None, the first chunk of the body) of the start of an HTTP/1.1 response; a whole body if not chunked."""
    head, _, rest = received.partition(b"\r\n\r\n")
    status = int(head[9:12] or 0)
    if b"transfer-encoding: chunked" not in head.lower():
        return status, None, rest
    size, _, data = rest.partition(b"\r\n")
    return status, None, data[:int(size, 16)]


def run_clients(clients):
    """Run each of ``clients`` (functions of no argument) in a thread of its own; wait for them all."""
    threads = [in_thread(client)[0] for client in clients]
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a client was still waiting after 120 s"


def connect(port, keep_alive):
    """A connection for a client's requests, or None for a new one each time."""
    return http_client.HTTPConnection("127.0.0.1", port, timeout=30) if keep_alive else None


# A site made by django-admin startproject.

def page_client(port, expected, tally, requests, first=0, keep_alive=True):
    """A client asking for startproject's pages in turn, from the ``first``-th, checking each answer."""
    def client():
        connection = connect(port, keep_alive)
        for number in range(first, first + requests):
            path = PAGES[number % len(PAGES)]
            try:
                status, content_type, body = get(port, path, connection)
            except Exception as error:
                tally.error(path, error)
                return
            if not tally.check(path, (status, content_type, without_csrf_token(body)), expected[path]):
                return
    return client


def test_a_startproject_site_answers_one_client_after_another(split, startproject_site):
    directory, expected = startproject_site
    interface, worker, port = split("mysite.wsgi:application", directory)
    tally = Tally()
    page_client(port, expected, tally, 100)()
    # A client that hangs up once its answer is whole, as many do.
    page_client(port, expected, tally, 200, keep_alive=False)()
    tally.assert_all_right(300, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_startproject_site_answers_concurrent_clients(split, startproject_site):
    directory, expected = startproject_site
    interface, worker, port = split("mysite.wsgi:application", directory)
    tally = Tally()
    run_clients([page_client(port, expected, tally, 40, first=number, keep_alive=number % 2 == 0)
                 for number in range(CLIENTS)])
    tally.assert_all_right(CLIENTS * 40, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_startproject_site_answers_the_clients_that_stay_while_others_hang_up(split, startproject_site):
    directory, expected = startproject_site
    interface, worker, port = split("mysite.wsgi:application", directory)
    tally = Tally()

    def hang_up_early(number):
        # Gone before the answer, or while it comes: some time between 0 and 20 ms.
        # Then a pause: these clients wait for nothing, and at full speed they
        # would send more requests than a worker serves on a busy machine,
        # whose http.request channel would fill and rightly answer 503.
        def client():
            delays = random.Random(number)
            for request in range(40):
                leave(port, PAGES[request % len(PAGES)], after=delays.uniform(0, 0.02))
                time.sleep(0.05)
        return client

    run_clients([page_client(port, expected, tally, 40, first=number, keep_alive=number % 2 == 0)
                 for number in range(CLIENTS)] + [hang_up_early(number) for number in range(CLIENTS // 2)])
    tally.assert_all_right(CLIENTS * 40, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0


# A generator application answering in chunks.

def chunks_client(port, tally, number, requests, keep_alive=True):
    """A client asking for a path of its own each time, checking that every chunk is that request's."""
    def client():
        connection = connect(port, keep_alive)
        for request in range(requests):
            path = "/client%d/request%d" % (number, request)
            expected = (200, "text/plain", b"".join(chunk(path, index, CHUNKS) for index in range(CHUNKS)))
            try:
                answer = get(port, "%s?n=%d" % (path, CHUNKS), connection)
            except Exception as error:
                tally.error(path, error)
                return
            if not tally.check(path, answer, expected):
                return
    return client


def test_a_generator_application_answers_one_client_after_another(split):
    interface, worker, port = split("cli_apps:chunked")
    tally = Tally()
    chunks_client(port, tally, 0, 100)()
    chunks_client(port, tally, 1, 100, keep_alive=False)()
    tally.assert_all_right(200, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_generator_application_answers_concurrent_clients(split):
    interface, worker, port = split("cli_apps:chunked")
    tally = Tally()
    run_clients([chunks_client(port, tally, number, 40, keep_alive=number % 2 == 0) for number in range(CLIENTS)])
    tally.assert_all_right(CLIENTS * 40, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0


def test_a_generator_application_answers_the_clients_that_stay_while_others_hang_up_mid_response(split):
    interface, worker, port = split("cli_apps:chunked")
    tally = Tally()

    def hang_up_after_the_first_chunk(number):
        # Gone while the application is between chunks: the front is waiting for the next.
        def client():
            for request in range(40):
                path = "/leaving%d/request%d" % (number, request)
                received = leave(port, "%s?n=%d&pause=0.02" % (path, CHUNKS), until=chunk("", 0, CHUNKS))
                if not tally.check(path, first_chunk(received), (200, None, chunk(path, 0, CHUNKS))):
                    return
        return client

    run_clients([chunks_client(port, tally, number, 40, keep_alive=number % 2 == 0) for number in range(CLIENTS)]
                + [hang_up_after_the_first_chunk(number) for number in range(CLIENTS // 2)])
    tally.assert_all_right((CLIENTS + CLIENTS // 2) * 40, interface, worker)
    assert interface.stop() == 0
    assert worker.stop() == 0
