"""
The WebSocket half of the ASGI 3 front: one ASGI 3 ``websocket`` scope
carried over a channel layer as ASGI 1 ``websocket.*`` messages, exactly as
spec section 5b says: the handshake held until the application answers,
frames numbered by ``order``, close codes passed both ways, one
``websocket.disconnect`` for every connection the application heard of.
Python 3.9+ only.
"""
import asyncio
import logging

import six

from ..bridge.http_checks import PLAIN_TEXT, RETRY_LATER, UNAVAILABLE
from ..bridge.layer_calls import LayerFailed, clock, layer_call
from .http import request_from_scope
from .layer_calls import send, send_patiently

logger = logging.getLogger("asgiref.asgi3")

#: The close code of a connection that never opened (refused, or the
#: application did not answer in time), as ``websocket.disconnect`` says it.
NEVER_OPENED = 1006
#: Close code "try again later": the layer would not take a frame.
TRY_AGAIN_LATER = 1013
#: Close code "internal error": the layer failed under an open connection.
LAYER_FAILED = 1011


def reply_problem(message):
    """Why a message on a WebSocket reply channel cannot be acted on, or None (spec section 5b)."""
    if not isinstance(message, dict):
        return "it is %s, not a dict" % type(message).__name__
    text, data = message.get("text"), message.get("bytes")
    if text is not None and data is not None:
        return "it has both text and bytes"
    if text is not None and not isinstance(text, six.text_type):
        return "text is %s, not str" % type(text).__name__
    if data is not None and not isinstance(data, bytes):
        return "bytes is %s, not bytes" % type(data).__name__
    close = message.get("close", False)
    if not isinstance(close, (bool, int)):
        return "close is %s, not a bool or a close code" % type(close).__name__
    return None


def close_code(close):
    """The close code a ``close`` value asks for: True is 1000."""
    return 1000 if close is True else close


class WebSocketRelay(object):
    """One WebSocket connection between an ASGI 3 server and a channel layer."""

    def __init__(self, front, scope, receive, send):
        self.front = front
        self.scope = scope
        self.receive = receive
        self.send = send
        self.path = scope["path"]
        self.order = 0
        self.mailbox = self.reply_channel = None
        #: The code of the close frame this side sent first, if it did.
        self.closed_with = None

    async def run(self):
        event = await self.receive()
        if event["type"] != "websocket.connect":
            return
        mailboxes = self.front.mailboxes
        self.mailbox = mailboxes.open()
        self.reply_channel = self.mailbox.channel
        try:
            await self._connect()
        finally:
            # What the application still sends here is for nobody.
            mailboxes.close(self.mailbox)

    async def _connect(self):
        layer = self.front.channel_layer
        connect = request_from_scope(dict(self.scope, method="GET"))
        del connect["method"], connect["http_version"]
        connect.update(reply_channel=self.reply_channel, scheme=self.scope.get("scheme", "ws"), order=0)
        try:
            with layer_call(layer):
                await send(layer, "websocket.connect", connect)
        except layer.ChannelFull:
            return await self._deny(503, "The application is too busy to take this connection; try again shortly.")
        except layer.MessageTooLarge:
            return await self._deny(431, "The request headers are too large.")
        except LayerFailed as failure:
            self.front.outage.failed(failure.error)
            return await self._deny(503, UNAVAILABLE)
        self.front.outage.succeeded()
        answer = await self._handshake_answer()
        if answer is None and self.mailbox.lost:
            # The application's answer, if any, went with the layer.
            await self._deny(503, UNAVAILABLE)
            return await self._disconnected(NEVER_OPENED)
        if answer is None or answer.get("accept") is False or not (
                answer.get("accept") or answer.get("text") or answer.get("bytes")):
            await self.send({"type": "websocket.close"})
            return await self._disconnected(NEVER_OPENED)
        await self.send({"type": "websocket.accept"})
        counters = self.front.counters
        if counters is not None:
            counters.websockets(1)
        replies = asyncio.ensure_future(self._relay_replies(answer))
        try:
            code = await self._relay_frames()
        finally:
            replies.cancel()
            if counters is not None:
                counters.websockets(-1)
        # A close this side began ends the connection with its code, whatever
        # the client answers (a client too slow to read it closes on its own).
        await self._disconnected(self.closed_with if self.closed_with is not None else code)

    async def _handshake_answer(self):
        """The application's first answer that decides the handshake, or None if none came in time."""
        deadline = clock() + self.front.connect_timeout
        while clock() < deadline and not self.mailbox.lost:
            message = await self._next_reply(deadline - clock())
            if message is not None and (message.get("text") or message.get("bytes") or "accept" in message
                                        or message.get("close")):
                return message
        if not self.mailbox.lost:
            logger.warning("no answer to websocket.connect on %s within %ss: refused",
                           self.reply_channel, self.front.connect_timeout)
        return None

    async def _next_reply(self, timeout=None):
        """The next actionable message on this connection's reply channel, or None after ``timeout`` seconds."""
        message = await self.mailbox.next(timeout)
        if message is None:
            return None
        problem = reply_problem(message)
        if problem:
            logger.error("ignored a message on %s: %s", self.reply_channel, problem)
            return None
        return message

    async def _relay_replies(self, message):
        """Pass the application's messages to the client until one closes the connection or the client leaves."""
        try:
            await self._pass_replies(message)
        except OSError:
            # The client left while a frame was on its way; _relay_frames sees it.
            pass

    async def _pass_replies(self, message):
        while True:
            if self.mailbox.overflowed:
                logger.warning("%s: more than %d messages waited for a slow client; closed with %d",
                               self.reply_channel, self.mailbox.bound, TRY_AGAIN_LATER)
                await self._close(TRY_AGAIN_LATER)
                return
            if self.mailbox.lost:
                await self._close(LAYER_FAILED)
                return
            if message is not None:
                if message.get("text") is not None:
                    await self.send({"type": "websocket.send", "text": message["text"]})
                elif message.get("bytes") is not None:
                    await self.send({"type": "websocket.send", "bytes": message["bytes"]})
                if message.get("close"):
                    await self._close(close_code(message["close"]))
                    return
            message = await self._next_reply()

    async def _close(self, code):
        if self.closed_with is not None:
            # Both directions may find a reason to close (the layer failing under each).
            return
        self.closed_with = code
        await self.send({"type": "websocket.close", "code": code})

    async def _relay_frames(self):
        """Pass the client's frames on until the connection closes; return its close code."""
        layer = self.front.channel_layer
        while True:
            event = await self.receive()
            if event["type"] == "websocket.disconnect":
                return event.get("code", 1005)
            self.order += 1
            try:
                with layer_call(layer):
                    await send_patiently(layer, "websocket.receive", {
                        "reply_channel": self.reply_channel, "path": self.path, "order": self.order,
                        "text": event.get("text"), "bytes": event.get("bytes")}, self.front.send_timeout)
            except layer.ChannelFull:
                logger.warning("websocket.receive is full: %s closed with %d", self.reply_channel, TRY_AGAIN_LATER)
                await self._close(TRY_AGAIN_LATER)
                return TRY_AGAIN_LATER
            except LayerFailed as failure:
                self.front.outage.failed(failure.error)
                await self._close(LAYER_FAILED)
                return LAYER_FAILED

    async def _disconnected(self, code):
        layer = self.front.channel_layer
        self.order += 1
        try:
            with layer_call(layer):
                await send(layer, "websocket.disconnect", {
                    "reply_channel": self.reply_channel, "code": code, "path": self.path, "order": self.order})
        except layer.ChannelFull:
            logger.warning("websocket.disconnect is full; %s was not announced", self.reply_channel)
        except LayerFailed as failure:
            self.front.outage.failed(failure.error)

    async def _deny(self, status, text):
        """Refuse the handshake with an HTTP answer where the server can send one, else with 403."""
        if "websocket.http.response" in self.scope.get("extensions", {}):
            body = ("%s\n" % text).encode("utf-8")
            # A 503 is for a while: the client is told when to try again.
            await self.send({"type": "websocket.http.response.start", "status": status,
                             "headers": PLAIN_TEXT + (RETRY_LATER if status == 503 else [])
                             + [[b"content-length", str(len(body)).encode("ascii")]]})
            await self.send({"type": "websocket.http.response.body", "body": body})
        else:
            await self.send({"type": "websocket.close"})
