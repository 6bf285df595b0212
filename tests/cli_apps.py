"""WSGI applications for the asgiref command's tests, imported by the command as cli_apps:NAME."""
import hashlib
import time


def application(environ, start_response):
    """Echoes the method, path, query and a digest of the body."""
    body = environ["wsgi.input"].read()
    text = "%s %s?%s %s %d" % (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"],
                               hashlib.sha256(body).hexdigest(), len(body))
    data = text.encode("latin-1") if not isinstance(text, bytes) else text
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


def slow(environ, start_response):
    """Announces itself on wsgi.errors, then answers after two seconds."""
    environ["wsgi.errors"].write("slow request started\n")
    environ["wsgi.errors"].flush()
    time.sleep(2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slow but complete"]


def stuck(environ, start_response):
    """Announces itself on wsgi.errors, then takes a minute to answer."""
    environ["wsgi.errors"].write("stuck request started\n")
    environ["wsgi.errors"].flush()
    time.sleep(60)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"too late"]


not_callable = 42


def broken_import():
    raise RuntimeError("never called")
