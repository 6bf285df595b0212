"""WSGI applications for the --metrics tests, imported by the command as metrics_apps:NAME."""
from __future__ import absolute_import


def statuses(environ, start_response):
    """Answers with the status its path names: /404 is a 404; / a 200."""
    code = environ["PATH_INFO"].strip("/") or "200"
    start_response("%s Status" % code, [("Content-Type", "text/plain")])
    return [("status %s" % code).encode("ascii")]
