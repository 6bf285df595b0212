"""
Where the ``asgiref`` command's log goes: stderr, through a buffer.

At one access-log line per request, a write to stderr per line costs every
request a system call, during which another thread takes the interpreter
lock. Lines are buffered instead and written out at least every half
second, and at once for a warning or worse.
"""
import io
import logging
import sys
import threading
import time

import six

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Longest time (seconds) a line of INFO or below waits in the buffer.
FLUSH_INTERVAL = 0.5


def configure(level):
    """
    Send the root logger's records of ``level`` and above to stderr,
    buffered; like ``logging.basicConfig``, nothing if the root logger has a
    handler already (the program using the command configured its own).
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = BufferedStderrHandler()
    handler.setFormatter(Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def drop_django_console():
    """
    Once Django is set up, stop its default console handler from writing
    what the command's handler writes already: Django's default logging
    (with DEBUG on) writes each record of the ``django`` logger bare to
    stderr, and passes it on to the root logger, where the command's
    handler writes it again. Nothing changes unless the command's handler
    is the root logger's and the project's ``LOGGING`` leaves the ``django``
    logger to Django's defaults: a project that configures it keeps its
    own handlers.
    """
    settings = _configured_django_settings()
    if settings is None or not getattr(settings, "LOGGING_CONFIG", None):
        return
    if "django" in (getattr(settings, "LOGGING", None) or {}).get("loggers", {}):
        return
    if not any(isinstance(handler, BufferedStderrHandler) for handler in logging.getLogger().handlers):
        return
    django_logger = logging.getLogger("django")
    for handler in list(django_logger.handlers):
        # Django's default logging names its handlers, as dictConfig does.
        if handler.name == "console" and isinstance(handler, logging.StreamHandler):
            django_logger.removeHandler(handler)


def _configured_django_settings():
    """Django's settings if this process has set Django up (without importing Django), else None."""
    conf = sys.modules.get("django.conf")
    if conf is None or not conf.settings.configured:
        return None
    return conf.settings


class BufferedStderrHandler(logging.Handler):
    """
    Writes records to the standard error file, UTF-8 encoded, through a
    buffer: a record above INFO is written at once, others within
    ``interval`` seconds (by a daemon thread), and all at exit (logging's
    own shutdown flushes every handler).
    """

    def __init__(self, interval=FLUSH_INTERVAL):
        logging.Handler.__init__(self)
        self._file = io.open(sys.stderr.fileno(), "wb", buffering=64 * 1024, closefd=False)
        flusher = threading.Thread(target=self._flush_every, args=(interval,), name="asgiref log flush")
        flusher.daemon = True
        flusher.start()

    def emit(self, record):
        try:
            line = self.format(record) + "\n"
            self._file.write(line.encode("utf-8", "replace") if isinstance(line, six.text_type) else line)
            if record.levelno > logging.INFO:
                self._file.flush()
        except Exception:
            self.handleError(record)

    def flush(self):
        self.acquire()
        try:
            self._file.flush()
        finally:
            self.release()

    def _flush_every(self, interval):
        while True:
            time.sleep(interval)
            self.flush()


class Formatter(logging.Formatter):
    """logging's Formatter, formatting each second's date and time once, not once per line."""

    _second = None
    _date_and_time = ""

    def formatTime(self, record, datefmt=None):
        if datefmt is not None:
            return logging.Formatter.formatTime(self, record, datefmt)
        second = int(record.created)
        if second != self._second:
            # Handlers format under their lock: one thread at a time is here.
            self._date_and_time = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second))
            self._second = second
        return "%s,%03d" % (self._date_and_time, record.msecs)
