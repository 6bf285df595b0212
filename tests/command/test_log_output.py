# -*- coding: utf-8 -*-
"""The asgiref command's log output: stderr through a buffer, each second's time formatted once."""
from __future__ import absolute_import, unicode_literals

import logging
import subprocess
import sys
import threading

from asgiref.command.log_output import FORMAT, Formatter, configure

# Logs the lines given on the command line, then waits for stdin to close.
SCRIPT = """
import logging, sys
from asgiref.command import log_output
log_output.configure("INFO")
for line in sys.argv[1:]:
    level, _, text = line.partition(":")
    logging.getLogger("test").log(getattr(logging, level), "%s", text)
sys.stdin.read()
"""


class Logging(object):
    """A Python process that logs through log_output; its stderr read line by line."""

    def __init__(self, *lines):
        self.process = subprocess.Popen([sys.executable, "-c", SCRIPT] + list(lines), stdin=subprocess.PIPE,
                                        stderr=subprocess.PIPE)

    def next_line(self, timeout=10):
        """The next line of stderr as text, or None if none comes within ``timeout`` seconds."""
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stderr.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout)
        return line[0].decode("utf-8").rstrip("\n") if line else None

    def finish(self):
        """Close stdin; the rest of stderr as text lines."""
        rest = self.process.communicate(b"")[1]
        return rest.decode("utf-8").splitlines()


def test_a_warning_is_written_at_once_and_info_within_the_flush_interval():
    logging_process = Logging("WARNING:careful", "INFO:hello \u00e9")
    warning = logging_process.next_line()
    info = logging_process.next_line()
    assert logging_process.finish() == []
    assert warning.endswith(" WARNING test: careful")
    assert info.endswith(" INFO test: hello \u00e9")


def test_lines_still_buffered_are_written_at_exit():
    logging_process = Logging(*["INFO:line %d" % number for number in range(100)])
    lines = logging_process.finish()
    assert [line.split(" test: ")[1] for line in lines] == ["line %d" % number for number in range(100)]


def test_a_logger_configured_already_is_left_alone():
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        handlers, level = list(root.handlers), root.level
        configure("DEBUG")
        assert (root.handlers, root.level) == (handlers, level)
    finally:
        root.removeHandler(handler)


def test_the_time_is_formatted_as_logging_formats_it():
    ours, standard = Formatter(FORMAT), logging.Formatter(FORMAT)
    for created in (1000000000.0, 1000000000.25, 1000000000.999, 1000000001.5, 1700000000.125):
        record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "msg": "m", "created": created,
                                        "msecs": (created - int(created)) * 1000})
        assert ours.format(record) == standard.format(record)
