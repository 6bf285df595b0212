"""Channels 1.x routes: Django's views, or the bare hello consumer (the WSGI hello app's counterpart)."""
from channels.routing import route

BODY = b"Hello, world!\n"


def hello_consumer(message):
    message.reply_channel.send({
        "status": 200,
        "headers": [[b"content-type", b"text/plain"], [b"content-length", str(len(BODY)).encode("ascii")]],
        "content": BODY,
    })


views = []
hello = [route("http.request", hello_consumer)]
