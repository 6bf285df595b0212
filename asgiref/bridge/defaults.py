"""
The defaults of the bridge, its two fronts and their HTTP servers, each
defined once: the constructors (HttpFront, ChannelLayerApplication,
WsgiToAsgiAdapter, AsgiToWsgiAdapter, HttpServer, UvicornServer) and the
asgiref command's options take them from here.
"""
from __future__ import unicode_literals

#: The channel the fronts send requests on and the workers receive them from.
REQUEST_CHANNEL = "http.request"
#: The largest request body a front accepts (bytes); beyond it, 413.
MAX_BODY_SIZE = 1024 ** 3
#: A front sends a request body in chunks of at most this many bytes.
BODY_CHUNK_SIZE = 64 * 1024
#: A worker sends a response body in chunks of at most this many bytes.
RESPONSE_CHUNK_SIZE = 256 * 1024
#: Seconds a front waits for a response, and for each next chunk of one.
RESPONSE_TIMEOUT = 60
#: Seconds a front or a worker waits for room on a full channel.
SEND_TIMEOUT = 60
#: Seconds a worker waits for the next chunk of a request body.
BODY_TIMEOUT = 60
#: Seconds the ASGI 3 front waits for a WebSocket's connect to be answered.
CONNECT_TIMEOUT = 5
#: Seconds an idle keep-alive connection stays open.
CHANNEL_TIMEOUT = 120
#: Client connections an HTTP server holds at once.
CONNECTION_LIMIT = 100
#: Where an HTTP server listens.
HOST = "127.0.0.1"
PORT = 8000
#: waitress threads, each holding one request.
HTTP_THREADS = 8
#: Worker threads running the application.
WORKER_THREADS = 4
#: Seconds a stop waits for requests in flight and for threads to end.
STOP_TIMEOUT = 10
