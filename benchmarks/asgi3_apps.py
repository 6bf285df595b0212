"""
The other sides of the ASGI 3 front's benchmark, each run as its own process:

    python asgi3_apps.py a2wsgi MODULE:APP PORT THREADS   uvicorn + a2wsgi serving a WSGI application
    python asgi3_apps.py echo PORT                        uvicorn serving a native ASGI 3 WebSocket echo

and ``routes``, the ASGI 1 echo consumers that ``asgiref serve --consumers``
and ``asgiref worker --consumers`` run.
"""
import importlib
import sys


def _accept(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"accept": True})


def _echo(message, channel_layer):
    channel_layer.send(message["reply_channel"], {"text": message["text"], "bytes": message["bytes"]})


def _forget(message, channel_layer):
    pass


#: The WebSocket echo as ASGI 1 consumers.
routes = {"websocket.connect": _accept, "websocket.receive": _echo, "websocket.disconnect": _forget}


async def echo(scope, receive, send):
    """The WebSocket echo as a native ASGI 3 application: the floor."""
    if scope["type"] != "websocket":
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")})
        else:
            return


def _uvicorn(app, port):
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def main(kind, *arguments):
    if kind == "a2wsgi":
        from a2wsgi import WSGIMiddleware
        module, _, name = arguments[0].partition(":")
        application = getattr(importlib.import_module(module), name or "application")
        _uvicorn(WSGIMiddleware(application, workers=int(arguments[2])), int(arguments[1]))
    elif kind == "echo":
        _uvicorn(echo, int(arguments[0]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(*sys.argv[1:])
