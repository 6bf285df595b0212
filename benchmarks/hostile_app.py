"""
The WSGI application of the hostile-traffic benchmark, and its direct server:

    python hostile_app.py PORT THREADS

serves it with waitress alone, set up as ``asgiref serve`` sets up its own.

/upload      answers without reading the request body.
/download    streams ``?mb=N`` megabytes (default 500) in 64 KiB pieces.
/exit        raises SystemExit.
/cut         sends two pieces, then fails.
anything     a plain hello.
"""
import sys

from hello_app import serve_directly

PIECE = b"x" * (64 * 1024)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/exit":
        raise SystemExit(3)
    if path == "/download":
        megabytes = int(environ.get("QUERY_STRING", "").partition("mb=")[2] or 500)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(megabytes * 1024 * 1024))])
        return (PIECE for _ in range(megabytes * 16))
    start_response("200 OK", [("Content-Type", "text/plain")])
    if path == "/cut":
        return _cut_off()
    return [b"not read\n" if path == "/upload" else b"Hello, world!\n"]


def _cut_off():
    yield b"first part, "
    yield b"second part, "
    raise RuntimeError("the application fails mid-stream")


if __name__ == "__main__":
    serve_directly(application, int(sys.argv[1]), int(sys.argv[2]))
