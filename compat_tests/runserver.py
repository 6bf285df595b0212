"""Channels 1.x's ``manage.py runserver`` on the compatibility site, in a subprocess on a free port."""
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    return port


class Runserver(object):
    """A running ``runserver`` (Daphne and, unless ``--noworker``, its worker threads); its output collected."""

    def __init__(self, *options):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/" % self.port
        environment = dict(os.environ, DJANGO_SETTINGS_MODULE="compat_site.settings", PYTHONUNBUFFERED="1")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", "127.0.0.1:%d" % self.port, "--noreload"] + list(options),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
        self.lines = []
        reader = threading.Thread(target=self._read)
        reader.daemon = True
        reader.start()
        self._wait_until_listening()

    def _read(self):
        for line in iter(self.process.stdout.readline, b""):
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def _wait_until_listening(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except socket.error:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("runserver did not start listening:\n%s" % self.output)

    @property
    def output(self):
        return "\n".join(self.lines)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
