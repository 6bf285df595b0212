"""
The ``asgiref`` command: serve a WSGI application through a channel layer.

    asgiref serve [APP]     HTTP server and worker threads in one process
    asgiref interface       the HTTP server only, putting requests on a layer
    asgiref worker [APP]    worker threads only, serving requests from a layer

APP is ``module:attribute`` (``module`` alone means ``module:application``);
without one, a built-in demo page is served. The HTTP server is uvicorn
running the ASGI 3 front (HTTP and WebSocket) where uvicorn is installed
(Python 3.9+), else waitress (HTTP); ``--server`` chooses.

Before it says it serves, each command checks that the layer answers (a
layer with a ``ping``, as the Redis layers). Exit codes: 0 after a stop,
1 when the layer did not answer at start-up (or on a second stop signal),
2 for a bad argument; an error is one line on stderr.
"""
from __future__ import print_function, unicode_literals

import argparse
import ast
import importlib
import logging
import os
import re
import signal
import sys
import threading


from .. import __version__
from ..base_layer import BaseChannelLayer
from ..bridge import CHANNEL_CAPACITY, defaults
from ..bridge.layer_calls import clock
from ..consumers import Consumers
from ..inmemory import ChannelLayer
from ..redis.urls import CLUSTER_URL_SCHEMES, URL_SCHEMES, check_url, redacted
from ..wsgi import AsgiToWsgiAdapter, WsgiToAsgiAdapter
from . import log_output, stats
from .demo import DemoApplication, layer_name
from .demo_live import PATH as LIVE_PATH, LiveStatistics
from .monitoring import Monitoring, address as metrics_address

_SIZE_SUFFIXES = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_INFINITY = float("inf")
# Beyond this a timed wait overflows (Python 2's waits poll: no limit there).
_LONGEST_WAIT = getattr(threading, "TIMEOUT_MAX", _INFINITY)
#: Seconds a layer with a ``ping`` has, at start-up, to show that it answers.
STARTUP_PING_TIMEOUT = 5


class UsageError(Exception):
    """A bad argument: reported as one line on stderr, exit code 2."""


class Unreachable(Exception):
    """The layer did not answer at start-up: reported as one line on stderr, exit code 1."""


def main(argv=None):
    """Run the command line; return the exit code."""
    arguments = _parser().parse_args(argv)
    log_output.configure(arguments.log_level)
    # The server's own start-up banner would repeat ours, and its warning for
    # each request that waits for a thread would flood the log under load.
    logging.getLogger("waitress").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("waitress.queue").setLevel(max(logging.ERROR, logging.getLogger().level))
    try:
        return arguments.command(arguments)
    except UsageError as error:
        print("asgiref: error: %s" % error, file=sys.stderr)
        return 2
    except Unreachable as error:
        print("asgiref: error: %s" % error, file=sys.stderr)
        return 1


def serve(arguments):
    monitor = _monitoring(arguments)
    layer = _layer(arguments, monitor=monitor)
    server_name = _server_name(arguments, layer)
    routes = _routes(arguments.consumers) if arguments.consumers else {}
    live = None
    if arguments.app is None and not routes and server_name == "uvicorn":
        live = LiveStatistics(layer)
        routes = live.routes
    on_loop = None
    if arguments.consumers_on_loop:
        if not routes or live is not None or server_name != "uvicorn":
            raise UsageError("--consumers-on-loop needs --consumers and --server uvicorn")
        on_loop = Consumers(routes, layer)
    started = _thread_pools(arguments.app, layer, routes, live and LIVE_PATH, consumers=on_loop is None)
    server = _http_server(layer, arguments, server_name, on_loop, monitor)
    for workers in started:
        workers.start(arguments.workers)
    if live is not None:
        live.start()
    _start_monitoring(monitor, started)
    _on_stop_signal(server.stop)
    _announce("serving %s at %s (%s) over %s with %d worker threads", _app_name(arguments), server.url,
              server_name, layer_name(layer), arguments.workers)
    drained = server.serve(drain_timeout=arguments.timeout)
    if live is not None:
        live.stop()
    # One --timeout for the whole stop: the workers get what the drain left.
    finished = [workers.stop(timeout=server.drain_time_left()) is not False for workers in started]
    _report_stop(all(finished) and drained, arguments.timeout)
    _stop_monitoring(monitor)
    return 0


def interface(arguments):
    monitor = _monitoring(arguments)
    layer = _layer(arguments, cross_process=True, monitor=monitor)
    server_name = _server_name(arguments, layer)
    server = _http_server(layer, arguments, server_name, monitor=monitor)
    _start_monitoring(monitor)
    _on_stop_signal(server.stop)
    _announce("interface at %s (%s), sending requests over %s", server.url, server_name, layer_name(layer))
    _report_stop(server.serve(drain_timeout=arguments.timeout), arguments.timeout)
    _stop_monitoring(monitor)
    return 0


def worker(arguments):
    monitor = _monitoring(arguments)
    layer = _layer(arguments, cross_process=True, monitor=monitor)
    routes = _routes(arguments.consumers) if arguments.consumers else {}
    started = _thread_pools(arguments.app, layer, routes)
    for workers in started:
        workers.start(arguments.workers)
    _start_monitoring(monitor, started)
    stop = threading.Event()
    _on_stop_signal(stop.set)
    _announce("worker serving %s from %s with %d worker threads", _app_name(arguments), layer_name(layer),
              arguments.workers)
    # A timed wait, so the signal handler gets to run on Python 2 too.
    while not stop.wait(0.5):
        pass
    # One --timeout for the whole stop, shared by the thread pools in turn.
    deadline = clock() + arguments.timeout
    finished = [workers.stop(timeout=max(0, deadline - clock())) is not False for workers in started]
    _report_stop(all(finished), arguments.timeout)
    _stop_monitoring(monitor)
    return 0


# Arguments.

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, not argparse's usage block.
        self.exit(2, "asgiref: error: %s (see %s --help)\n" % (message, self.prog))


def _parser():
    parser = _Parser(prog="asgiref", description="Serve a WSGI application (and ASGI 1 consumers) through an ASGI "
                                                 "channel layer: in one process with serve, or split into "
                                                 "interface and worker processes over a layer they share, such "
                                                 "as Redis. 'asgiref COMMAND --help' explains each command's "
                                                 "options.")
    parser.add_argument("--version", action="version", version="asgiref %s" % __version__)
    commands = parser.add_subparsers(title="commands", dest="command_name", metavar="COMMAND",
                                     parser_class=_Parser)
    commands.required = True
    app_help = ("the WSGI application, as module:attribute (e.g. mysite.wsgi:application; a module alone "
                "means module:application); without one, a demo page is served")
    for name, command, help_text, has_app, has_http in [
            ("serve", serve, "run the HTTP server and worker threads in one process", True, True),
            ("interface", interface, "run only the HTTP server, sending requests over a layer that worker "
             "processes reach too (--layer)", False, True),
            ("worker", worker, "run only worker threads, serving the requests that interface processes put on "
             "a layer they share (--layer)", True, False)]:
        sub = commands.add_parser(name, help=help_text, description=help_text + ".")
        sub.set_defaults(command=command)
        if has_app:
            sub.add_argument("app", nargs="?", metavar="APP", help=app_help)
        if has_http:
            sub.add_argument("--server", choices=["uvicorn", "waitress"],
                             help="HTTP server: uvicorn runs the ASGI 3 front (HTTP and WebSocket; Python 3.9+), "
                                  "waitress the WSGI front (HTTP) (default: uvicorn where it is installed)")
            sub.add_argument("--host", default=defaults.HOST, help="address to listen on (default: %(default)s)")
            sub.add_argument("--port", type=_port, default=defaults.PORT,
                             help="port to listen on; 0 picks a free one (default: %(default)s)")
            sub.add_argument("--unix-socket", metavar="PATH",
                             help="listen on this Unix socket instead of --host and --port")
            sub.add_argument("--threads", type=_positive, default=defaults.HTTP_THREADS,
                             help="waitress threads, each holding one request while it is served; uvicorn "
                                  "serves on its event loop and ignores this (default: %(default)s)")
            sub.add_argument("--max-body", type=_size, default=defaults.MAX_BODY_SIZE, metavar="BYTES",
                             help="largest request body accepted, e.g. 10M or 1G; larger ones get 413 "
                                  "before they are read (default: 1G)")
            sub.add_argument("--connection-limit", type=_positive, default=defaults.CONNECTION_LIMIT, metavar="N",
                             help="most client connections open at once; more wait to be accepted (uvicorn: "
                                  "are answered 503) (default: %(default)s)")
            sub.add_argument("--channel-timeout", type=_positive, default=defaults.CHANNEL_TIMEOUT, metavar="SECONDS",
                             help="close a connection idle this many whole seconds (default: %(default)s)")
        if has_app:
            sub.add_argument("--workers", type=_positive, default=defaults.WORKER_THREADS,
                             help="worker threads running the application, each serving one request at a time "
                                  "(default: %(default)s)")
        if has_app:
            sub.add_argument("--consumers", metavar="MODULE:ATTRIBUTE",
                             help="ASGI 1 consumers to run in worker threads too: a dict of channel name -> "
                                  "consumer(message, channel_layer), e.g. chat.consumers:routes (a module alone "
                                  "means module:routes)")
        if name == "serve":
            sub.add_argument("--consumers-on-loop", action="store_true",
                             help="run the --consumers on uvicorn's event loop instead of worker threads: "
                                  "fastest, for consumers that never block")
        sub.add_argument("--timeout", type=_seconds, default=float(defaults.RESPONSE_TIMEOUT),
                         help={"serve": "seconds a request waits for its response (then 504), and that "
                                        "requests in flight get to finish when stopping (default: %(default)s)",
                               "interface": "seconds a request waits for a worker's response (then 504), and "
                                            "that requests in flight get to finish when stopping "
                                            "(default: %(default)s)",
                               "worker": "seconds that the requests the worker threads are serving get to finish "
                                         "when stopping, before the worker exits anyway; how long a client waits "
                                         "is the interface's --timeout (default: %(default)s)"}[name])
        layer_forms = ("the Redis layer at redis://[USER:PASSWORD@]HOST:PORT/DB, rediss://... (TLS) or "
                       "unix:///PATH/TO/redis.sock?db=DB; on Redis Cluster at redis+cluster://HOST:PORT/0 "
                       "(rediss+cluster:// for TLS); or any channel layer as MODULE:ATTRIBUTE, an instance "
                       "or a class built with the --layer-option values")
        sub.add_argument("--layer", metavar="URL|MODULE:ATTRIBUTE",
                         help=("channel layer: %s (default: a new in-memory layer, which lives in this process)"
                               % layer_forms) if name == "serve" else
                              ("channel layer that the %s processes reach too, needed here (the in-memory layer "
                               "lives in one process): %s" % ("worker" if name == "interface" else "interface",
                                                              layer_forms)))
        sub.add_argument("--layer-option", action="append", default=[], type=_option, metavar="KEY=VALUE",
                         help="keyword argument for the layer's class (the Redis layer's for a URL), e.g. "
                              "prefix=myapp: or capacity=200; VALUE is read as a Python literal if it is one, "
                              "else as text; repeatable")
        sub.add_argument("--metrics", type=metrics_address, metavar="HOST:PORT",
                         help="serve this process's Prometheus metrics at http://HOST:PORT/metrics, with "
                              "/healthz (200 while the layer answers a ping within 1 s, else 503) and /livez "
                              "(200 while its loops and threads run)%s; needs the metrics extra"
                              % (", and what waits in an in-memory layer at /stats (asgiref stats)"
                                 if name == "serve" else ""))
        sub.add_argument("--log-level", type=_log_level, default="INFO",
                         help="DEBUG, INFO (one access-log line per request), WARNING or ERROR "
                              "(default: %(default)s)")
    stats.add_command(commands, _option, _stats)
    return parser


def _port(text):
    port = _integer(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("port must be from 0 to 65535, not %s" % text)
    return port


def _positive(text):
    number = _integer(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1, not %s" % text)
    return number


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)


def _seconds(text):
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if not -_INFINITY < seconds < _INFINITY:
        raise argparse.ArgumentTypeError("must be a finite number of seconds, not %s" % text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError("must be above 0, not %s" % text)
    if seconds > _LONGEST_WAIT:
        raise argparse.ArgumentTypeError("must be at most %d seconds, not %s" % (_LONGEST_WAIT, text))
    return seconds


def _size(text):
    multiplier = _SIZE_SUFFIXES.get(text[-1:].lower(), 1)
    digits = text[:-1] if multiplier > 1 else text
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError("%r is not a size in bytes like 1048576, 512K, 10M or 1G" % text)
    return int(digits) * multiplier


def _option(text):
    key, equals, value = text.partition("=")
    if not equals or not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", key):
        raise argparse.ArgumentTypeError("%r is not KEY=VALUE" % text)
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return str(key), value


def _log_level(text):
    level = text.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise argparse.ArgumentTypeError("%r is not DEBUG, INFO, WARNING or ERROR" % text)
    return level


# Loading what the arguments name.

def _load(reference, what):
    """The object ``module:attribute`` names; UsageError saying why not."""
    module_name, _, attribute = reference.partition(":")
    if not module_name:
        raise UsageError("%s %r is not module:attribute" % (what, reference))
    # Like python -m, find modules in the current directory.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise UsageError("cannot import %s %s: %s: %s" % (what, module_name, type(error).__name__, error))
    found = module
    for part in (attribute or "application").split("."):
        if not hasattr(found, part):
            raise UsageError("%s: module %s has no attribute '%s'" % (what, module_name, attribute or "application"))
        found = getattr(found, part)
    return found


def _routes(reference):
    routes = _load(reference if ":" in reference else reference + ":routes", "consumers")
    if not isinstance(routes, dict) or not routes:
        raise UsageError("consumers %s is a %s, not a non-empty dict of channel name -> consumer"
                         % (reference, type(routes).__name__))
    return routes


def _thread_pools(app, layer, routes, live_path=None, consumers=True):
    """
    The worker thread pools of ``serve`` and ``worker``: the WSGI application
    (the demo page without one), unless consumers take ``http.request``; and
    the consumers of ``routes`` (if ``consumers``).
    """
    pools = []
    if app is not None or "http.request" not in routes:
        pools.append(AsgiToWsgiAdapter(_application(app, layer, live_path), layer))
    if routes and consumers:
        pools.append(Consumers(routes, layer))
    # Loading a Django project's application or consumers sets Django up.
    log_output.drop_django_console()
    return pools


def _application(reference, layer, live_path=None):
    if reference is None:
        return DemoApplication(layer, live_path)
    application = _load(reference, "application")
    if not callable(application):
        raise UsageError("application %s is a %s, not a WSGI application" % (reference, type(application).__name__))
    return application


def _layer(arguments, cross_process=False, monitor=None):
    """
    The layer ``--layer`` names, built with the ``--layer-option`` values;
    one with a ``ping`` must answer it (Unreachable if it does not). With
    ``monitor`` (``--metrics``), its calls are counted.
    """
    options = dict(arguments.layer_option)
    reference = shown = arguments.layer
    if reference is None:
        reference = shown = "asgiref.inmemory:ChannelLayer"
        found = ChannelLayer
        # Workers notice a stop within a second. A channel holds 100 requests
        # (the layer's own default is asgiref 1.1's 10) before clients get 503;
        # each request's body and reply channels hold a bounded amount
        # (docs/backpressure.rst).
        options = dict({"receive_timeout": 1, "capacity": 100, "channel_capacity": CHANNEL_CAPACITY}, **options)
    elif "://" in reference:
        # A URL: only the Redis layer's, and one that redis-py would not misread.
        shown = redacted(reference)
        try:
            check_url(reference)
        except ValueError as error:
            if reference.startswith(URL_SCHEMES):
                raise UsageError("--layer: %s" % error)
            raise UsageError("--layer: %s, the URL schemes of the Redis layer (another layer is given as "
                             "module:attribute)" % error)
        found = _redis_layer(cluster=reference.startswith(CLUSTER_URL_SCHEMES))
        # The URL is the server, unless --layer-option hosts=[...] lists them;
        # workers notice a stop within a second; the bridge's channels are
        # bounded as in memory.
        options = dict({"hosts": [reference], "receive_timeout": 1, "channel_capacity": CHANNEL_CAPACITY},
                       **options)
    else:
        found = _load(reference, "layer")
    if isinstance(found, type):
        try:
            layer = found(**options)
        except Exception as error:
            raise UsageError("cannot construct layer %s: %s: %s" % (shown, type(error).__name__, error))
    elif options:
        raise UsageError("--layer-option needs --layer to name a class; %s is an instance" % shown)
    else:
        layer = found
    if not isinstance(layer, BaseChannelLayer):
        raise UsageError("layer %s is a %s, not a channel layer (a BaseChannelLayer)" % (shown, type(layer).__name__))
    if cross_process and isinstance(layer, ChannelLayer):
        raise UsageError("asgiref %s needs a layer other processes can reach; the in-memory layer lives in one "
                         "process (use asgiref serve, or --layer)" % arguments.command_name)
    _reach(layer)
    if monitor is not None:
        monitor.layer(layer)
        _bind_metrics(monitor, arguments)
    return layer


def _reach(layer):
    """Unreachable unless ``layer`` answers its ``ping`` (the Redis layers have one; others are not asked)."""
    ping = getattr(layer, "ping", None)
    if not callable(ping):
        return
    try:
        ping(timeout=STARTUP_PING_TIMEOUT)
    except Exception as error:
        raise Unreachable(str(error) or type(error).__name__)


def _redis_layer(cluster=False):
    try:
        from ..redis import RedisChannelLayer, RedisClusterChannelLayer
    except ImportError as error:
        raise UsageError("a redis:// layer needs the redis extra (pip install \".[redis]\" in a checkout): %s" % error)
    return RedisClusterChannelLayer if cluster else RedisChannelLayer


def _server_name(arguments, layer):
    """The HTTP server to run: --server's, else uvicorn where it can run, else waitress."""
    has_async = "async" in layer.extensions
    if arguments.server is None:
        return "uvicorn" if has_async and _uvicorn_runs() else "waitress"
    if arguments.server == "uvicorn":
        if not _uvicorn_runs():
            raise UsageError('--server uvicorn needs Python 3.9 or later and uvicorn: '
                             'pip install ".[serve]" in a checkout')
        if not has_async:
            raise UsageError("--server uvicorn needs a layer with receive_async; %s has none (use --server "
                             "waitress)" % layer_name(layer))
    return arguments.server


def _uvicorn_runs():
    if sys.version_info < (3, 9):
        return False
    try:
        import uvicorn  # noqa: F401 (only whether it imports)
    except ImportError:
        return False
    return True


def _http_server(layer, arguments, server_name, consumers=None, monitor=None):
    """
    The front: uvicorn with the ASGI 3 front (and ``consumers`` on its
    loop), or waitress with the WSGI front, with the same options; its
    requests counted by ``monitor`` (``--metrics``).
    """
    where = dict(host=arguments.host, port=arguments.port, unix_socket=arguments.unix_socket,
                 connection_limit=arguments.connection_limit, channel_timeout=arguments.channel_timeout)
    try:
        if server_name == "uvicorn":
            from ..asgi3 import ChannelLayerApplication
            from .uvicorn_server import UvicornServer
            front = ChannelLayerApplication(layer, response_timeout=arguments.timeout,
                                            max_body_size=arguments.max_body, consumers=consumers)
            return UvicornServer(monitor.asgi3_front(front) if monitor else front, **where)
        from .waitress_server import HttpServer
        front = WsgiToAsgiAdapter(layer, response_timeout=arguments.timeout, max_body_size=arguments.max_body)
        server = HttpServer(monitor.wsgi_front(front) if monitor else front, threads=arguments.threads,
                            max_body_size=arguments.max_body, **where)
        if monitor is not None:
            monitor.http_server(server)
        return server
    except ImportError as error:
        raise UsageError(error)
    except (OSError, IOError) as error:
        reason = getattr(error, "strerror", None) or error
        if arguments.unix_socket:
            raise UsageError("cannot listen on %s: %s" % (arguments.unix_socket, reason))
        raise UsageError("cannot listen on %s port %d: %s" % (arguments.host, arguments.port, reason))


def _monitoring(arguments):
    """The process's metrics with ``--metrics`` (UsageError without the metrics extra), else None."""
    if arguments.metrics is None:
        return None
    try:
        return Monitoring(*arguments.metrics)
    except ImportError as error:
        raise UsageError(error)


def _bind_metrics(monitor, arguments):
    """Take the --metrics port before anything starts (UsageError if it cannot)."""
    try:
        monitor.bind()
    except (OSError, IOError) as error:
        host, port = arguments.metrics
        reason = getattr(error, "strerror", None) or error
        raise UsageError("--metrics: cannot listen on %s port %d: %s" % (host, port, reason))


def _start_monitoring(monitor, pools=()):
    """Count the busy and idle threads of ``pools`` and serve the metrics port."""
    if monitor is None:
        return
    monitor.workers(pools)
    url = monitor.start()
    _announce("metrics, health and liveness: %smetrics, /healthz, /livez%s", url,
              ", /stats" if monitor.has_stats else "")


def _stop_monitoring(monitor):
    if monitor is not None:
        monitor.stop()


def _stats(arguments):
    """``asgiref stats``: what waits in the layer, from the server (Redis) or a serve process's --metrics port."""
    if arguments.layer.startswith(stats.HTTP_SCHEMES):
        return stats.run(arguments, stats.endpoint_reader(arguments.layer))
    arguments.command_name = "stats"
    layer = _layer(arguments)
    reader = stats.layer_reader(layer)
    if reader is None:
        raise UsageError("asgiref stats reads a Redis layer (redis://...) or a serve process's --metrics port "
                         "(http://HOST:PORT); %s is neither" % layer_name(layer))
    return stats.run(arguments, reader)


# Running.

def _on_stop_signal(stop):
    """Call ``stop`` on the first SIGINT or SIGTERM; a second one exits at once."""
    received = []

    def handle(signum, frame):
        if received:
            raise SystemExit(1)
        received.append(signum)
        logging.getLogger(__name__).info("stopping: finishing requests in flight (again to stop at once)")
        stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _report_stop(finished, timeout):
    if not finished:
        logging.getLogger(__name__).warning("stopped with requests still in flight after %ss", timeout)


def _announce(template, *values):
    print("asgiref: " + template % values, file=sys.stderr)
    sys.stderr.flush()


def _app_name(arguments):
    consumers = getattr(arguments, "consumers", None)
    names = [name for name in (arguments.app, consumers and "consumers " + consumers) if name]
    return " and ".join(names) or "the demo page"
