"""
The trivial WSGI application of the HTTP benchmark, and the direct server:

    python hello_app.py PORT THREADS

serves it with waitress alone, set up as ``asgiref serve`` sets up its own.
"""
import logging
import sys

BODY = b"Hello, world!\n"


def application(environ, start_response):
    """Hello for a GET; for a POST, the number of body bytes read (in 64 KiB reads)."""
    if environ["REQUEST_METHOD"] == "POST":
        stream, total = environ["wsgi.input"], 0
        data = stream.read(65536)
        while data:
            total += len(data)
            data = stream.read(65536)
        body = ("%d\n" % total).encode("ascii")
    else:
        body = BODY
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def unsized_application(environ, start_response):
    """Hello without a Content-Length: the server works it out from the one-item list."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [BODY]


def serve_directly(wsgi_application, port, threads):
    """Serve ``wsgi_application`` with waitress alone, set up as ``asgiref serve`` sets up its own."""
    from waitress import serve
    # As asgiref serve does: no warning per request waiting for a thread.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serve(wsgi_application, host="127.0.0.1", port=port, threads=threads, _quiet=True)


if __name__ == "__main__":
    serve_directly(application, int(sys.argv[1]), int(sys.argv[2]))
