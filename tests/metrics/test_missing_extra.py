"""Without prometheus_client, --metrics says in one line what to install, and the command exits 2."""
from __future__ import absolute_import, unicode_literals

import subprocess
import sys

import pytest

# The command, run with prometheus_client made unimportable, as where the extra is not installed.
_WITHOUT_PROMETHEUS = """
import sys
sys.modules["prometheus_client"] = None
from asgiref.command import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("arguments", [["serve"], ["interface", "--layer", "redis://127.0.0.1:1/0"],
                                       ["worker", "--layer", "redis://127.0.0.1:1/0"]])
def test_metrics_without_the_extra_is_one_line_and_exit_code_2(arguments):
    process = subprocess.Popen([sys.executable, "-c", _WITHOUT_PROMETHEUS] + arguments + ["--metrics", "127.0.0.1:0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output, errors = process.communicate()
    assert process.returncode == 2
    # Said before the layer is reached: the Redis named here is not running.
    assert errors.decode("utf-8").splitlines() == [
        'asgiref: error: --metrics needs prometheus_client: pip install ".[metrics]" in a checkout']
