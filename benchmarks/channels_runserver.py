"""
The stack people ran on asgiref 1.1: Django Channels 1.1.8's ``runserver``
(Daphne 1.4.2 in the main thread, four worker threads beside it, Django
1.11, Python 3.6), on this package's in-memory layer against asgiref
1.1.2's, in one run.

    python benchmarks/channels_runserver.py [--python python3.6] [--seconds 10] [--connections 16]

The script builds two Python 3.6 virtualenvs under ``--cache`` (kept for
the next run; this package is reinstalled each time): the same pins in
both, asgiref 1.1.2 from the package index in one, this source tree in the
other. Both serve the same one-view Django site with the in-memory layer
at capacity 100, so neither answers 503 to wrk's connections. Load comes
from wrk (apt-get install wrk), a separate process, on loopback; the two
sides take turns, twice each, and each keeps its better run.

With asgiref 1.1.2, Daphne polls the layer (no ``twisted`` extension) and
the workers poll it too (``block`` is ignored); with this package Daphne
waits in ``receive_twisted`` and the workers in a blocking ``receive``.
"""
from __future__ import print_function

import argparse
import glob
import os
import shutil
import subprocess
import tempfile
import time

from six.moves.urllib.request import urlopen

from http_bridge import free_port, load
from tables import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PINS = ["channels==1.1.8", "daphne==1.4.2", "django>=1.11,<2"]
SIDES = [("asgiref 1.1.2", ["asgiref==1.1.2"]), ("this package", [ROOT])]

SITE = {
    "bench_settings.py": """
SECRET_KEY = "benchmark"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
MIDDLEWARE = []
ROOT_URLCONF = "bench_urls"
DATABASES = {}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgiref.inmemory.ChannelLayer",
        "ROUTING": [],
        "CONFIG": {"capacity": 100},
    },
}
""",
    "bench_urls.py": """
from django.conf.urls import url
from django.http import HttpResponse


def hello(request):
    return HttpResponse(b"Hello, world!\\n", content_type="text/plain")


urlpatterns = [url(r"^$", hello)]
""",
}


def python36(requested):
    """The Python 3.6 to build the virtualenvs with."""
    found = requested or shutil.which("python3.6") or next(
        iter(sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.6*/bin/python")))), None)
    if not found:
        raise SystemExit("no Python 3.6 found: pass --python")
    return found


def virtualenv(python, directory, requirements):
    """A virtualenv in ``directory`` with PINS and ``requirements`` (built once); its python."""
    bin_python = os.path.join(directory, "bin", "python")
    built = os.path.join(directory, "built")
    if not os.path.exists(built):
        shutil.rmtree(directory, ignore_errors=True)
        subprocess.check_call([python, "-m", "venv", directory])
        # The pip of 3.6's venv is too old for today's index.
        subprocess.check_call([bin_python, "-m", "pip", "install", "-q", "-U", "pip<22"])
        subprocess.check_call([bin_python, "-m", "pip", "install", "-q"] + PINS + requirements)
        open(built, "w").close()
    elif ROOT in requirements:
        subprocess.check_call([bin_python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", ROOT])
    return bin_python


def layer_facts(python):
    """The asgiref version and the in-memory layer's extensions in a virtualenv."""
    script = "import asgiref, asgiref.inmemory as m; print(asgiref.__version__, sorted(m.ChannelLayer().extensions))"
    return subprocess.check_output([python, "-c", script], cwd=tempfile.gettempdir()).decode("ascii").strip()


def runserver(python, site, port):
    """Start ``manage.py runserver`` of Channels on ``port``; return it once the view answers."""
    environment = dict(os.environ, PYTHONPATH=site, DJANGO_SETTINGS_MODULE="bench_settings")
    process = subprocess.Popen(
        [python, "-m", "django", "runserver", "--noreload", "--verbosity", "0", "127.0.0.1:%d" % port],
        cwd=site, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urlopen("http://127.0.0.1:%d/" % port, timeout=5).read() == b"Hello, world!\n":
                return process
        except (IOError, OSError):
            time.sleep(0.2)
    process.kill()
    raise SystemExit("runserver on port %d did not answer" % port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--python", help="the Python 3.6 interpreter (default: python3.6, or pyenv's)")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "asgiref-channels-runserver"),
                        help="where the virtualenvs are kept between runs")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk's concurrent connections")
    arguments = parser.parse_args()
    python = python36(arguments.python)
    pythons = [virtualenv(python, os.path.join(arguments.cache, name.replace(" ", "-")), requirements)
               for name, requirements in SIDES]
    site = tempfile.mkdtemp(prefix="asgiref-channels-site-")
    for name, text in SITE.items():
        with open(os.path.join(site, name), "w") as source:
            source.write(text.lstrip())
    ports = [free_port() for _ in SIDES]
    servers = []
    try:
        servers = [runserver(side_python, site, port) for side_python, port in zip(pythons, ports)]
        for port in ports:
            load(port, arguments.connections, 2)  # warm up
        best = {}
        for _ in range(2):
            for port in ports:
                run = load(port, arguments.connections, arguments.seconds)
                if port not in best or run[0] > best[port][0]:
                    best[port] = run
    finally:
        for process in servers:
            process.terminate()
            process.wait()
        shutil.rmtree(site)

    print("Channels 1.1.8 runserver (Daphne 1.4.2, 4 worker threads), Django 1.11, Python 3.6; "
          "in-memory layer at capacity 100; wrk, %d connections, %d s per run, better of two"
          % (arguments.connections, arguments.seconds))
    for (name, _), side_python in zip(SIDES, pythons):
        print("%s: asgiref %s" % (name, layer_facts(side_python)))
    old, new = best[ports[0]], best[ports[1]]
    rows = [("", SIDES[0][0], SIDES[1][0], "ratio"),
            ("requests/s", "%.0f" % old[0], "%.0f" % new[0], "%.2fx" % (new[0] / old[0])),
            ("p50", "%.2f ms" % (old[1] * 1e3), "%.2f ms" % (new[1] * 1e3), "%.2fx" % (new[1] / old[1])),
            ("p99", "%.2f ms" % (old[2] * 1e3), "%.2f ms" % (new[2] * 1e3), "%.2fx" % (new[2] / old[2]))]
    print_table(rows)


if __name__ == "__main__":
    main()
