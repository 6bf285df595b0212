"""WebSocket consumers in Channels 1's style; HTTP goes to Django's views (Channels' own http.request route)."""
from channels.routing import route


def connect(message):
    message.reply_channel.send({"accept": True})


def receive(message):
    message.reply_channel.send({"text": "echo: %s" % message.content["text"]})


def disconnect(message):
    pass


channel_routing = [
    route("websocket.connect", connect),
    route("websocket.receive", receive),
    route("websocket.disconnect", disconnect),
]
