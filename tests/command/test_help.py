"""
What ``asgiref COMMAND --help`` says of each option, for that command.
"""
from __future__ import unicode_literals

import re
import subprocess
import sys

import pytest


def option_help(command, option):
    """The help entry of ``option`` in ``asgiref command --help``, on one line."""
    output = subprocess.check_output([sys.executable, "-m", "asgiref", command, "--help"]).decode("utf-8")
    # An entry starts at a line indented by two spaces; its text goes on in
    # lines indented further.
    entries = re.split(r"\n(?=  \S)", output)
    for entry in entries:
        if entry.split()[0] == option:
            return " ".join(entry.split())
    raise AssertionError("no %s in asgiref %s --help" % (option, command))


@pytest.mark.parametrize("command", ["serve", "interface", "worker"])
def test_the_layer_help_names_the_url_forms_and_module_attribute(command):
    text = option_help(command, "--layer")
    for form in ("redis://", "rediss://", "unix://", "MODULE:ATTRIBUTE"):
        assert form in text


def test_serve_offers_the_in_memory_layer_by_default():
    assert "default: a new in-memory layer" in option_help("serve", "--layer")


@pytest.mark.parametrize("command", ["interface", "worker"])
def test_the_split_commands_offer_no_in_memory_default(command):
    text = option_help(command, "--layer")
    assert "default" not in text
    assert "needed here" in text


def test_a_workers_timeout_is_how_long_a_stop_waits_for_requests_in_flight():
    text = option_help("worker", "--timeout")
    assert "when stopping" in text
    assert "504" not in text


@pytest.mark.parametrize("command", ["serve", "interface"])
def test_an_http_commands_timeout_is_also_the_wait_for_a_response(command):
    assert "(then 504)" in option_help(command, "--timeout")
