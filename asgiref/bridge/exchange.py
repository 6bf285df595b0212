"""
The bridge's core: one HTTP request's round trip through a channel layer,
seen from the HTTP side, whatever server is in front and whatever layer is
behind.

An :class:`Exchange` sends the ``http.request`` and its body chunks, takes
the response messages apart and cleans up after the request, without doing
any I/O itself: each of its operations (:meth:`Exchange.sending`,
:meth:`Exchange.response`, :meth:`Exchange.closing`) is a generator of
*steps*, the layer calls and pauses it needs, to which the front sends back
what each step gave. The WSGI front performs the steps with blocking calls
in its thread (:func:`perform`); the ASGI 3 front awaits them on its event
loop (``asgiref.asgi3.layer_calls.LayerCalls``). So both fronts share one copy of
the logic and differ only in how they wait.

A request's reply channel lies behind a process-specific prefix that no
other request in flight uses: :class:`ReplyPrefixes` lends one to each
request and takes it back when the request is over and nothing can still
receive on the prefix for it. The layer's capacity, which applies to the
prefix, so bounds what waits for one slow client, and a full prefix makes
that request's worker, and no other, wait; and a reused prefix costs the
layer nothing new (docs/backpressure.rst).
"""
from __future__ import unicode_literals

import itertools
import logging
import threading
import time

import six

from ..base_layer import check_positive_int, check_positive_number, random_name_part
from .defaults import (
    BODY_CHUNK_SIZE, MAX_BODY_SIZE, REQUEST_CHANNEL, RESPONSE_TIMEOUT, SEND_TIMEOUT)
from .http_checks import PLAIN_TEXT, RETRY_LATER, UNAVAILABLE, response_problem
from .layer_calls import LayerFailed, Outage, Patience, clock, drain, layer_call, receive_blocking
from .status_lines import status_line

logger = logging.getLogger("asgiref.bridge")

#: The capacities ``asgiref serve`` gives the bridge's per-request channels:
#: what one request may have in the layer at a time, whatever the layer's
#: default capacity. At the adapters' default chunk sizes, 256 KiB of request
#: body (4 x 64 KiB) and 1 MiB of response (4 x 256 KiB).
CHANNEL_CAPACITY = {"http.request.body?*": 4, "http.response.*": 4}

#: The longest pause between tries at a full body channel (seconds). The
#: window is small (docs/backpressure.rst), so a long pause would leave the
#: application idle once it has taken the window: an upload slowed to a
#: trickle whenever the worker was descheduled for a moment.
BODY_RETRY = 0.005

# The steps of an exchange's operations, and what the front sends back for
# each. A call's exception is thrown into the operation instead.
#: ``(SEND, channel, message)``: ``send`` it; None.
SEND = "send"
#: ``(POLL, channel)``: ``receive([channel], block=False)``'s result.
POLL = "poll"
#: ``(RECEIVE, channel, deadline)``: one ``receive`` that waits, back by
#: ``deadline`` (a ``clock()`` time) where the front can cut it short, else
#: after the layer's own timeout; its result, ``(None, None)`` if nothing came.
RECEIVE = "receive"
#: ``(DRAIN, channel)``: take and drop what waits on ``channel``; how many.
DRAIN = "drain"
#: ``(PAUSE, seconds)``: sleep; None.
PAUSE = "pause"
#: ``(BODY,)``: the client's next body chunk, ``(content, more)``.
BODY = "body"
#: ``(DONE, result)``: the operation is over; nothing is sent back.
DONE = "done"


class Refused(Exception):
    """The request cannot go through; ``status`` and ``text`` are the answer the client gets."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.status = status
        self.text = text


class BadResponse(Exception):
    """A response message that cannot be passed on; the message says why."""


class ResponseAborted(Exception):
    """
    The response stopped before its end: the application failed mid-stream,
    or a chunk did not come in time. Raised from the WSGI iterable, so the
    server aborts the connection and a cut-off response never looks whole.
    """


class ReplyPrefixes(object):
    """
    Process-specific reply prefixes (``http.response.RANDOM!``), each lent
    to one request at a time: as many as requests have been in flight at
    once, made on demand, reused for ever. Safe from any thread.

    ``in_use`` is how many are lent now. ``dropped`` counts the messages
    received behind these prefixes that were for no request waiting there:
    sent for a request that was over (its client gone, its time up) or for
    an earlier borrower of the prefix. Each is also logged at DEBUG on
    ``asgiref.bridge``.
    """

    def __init__(self):
        #: Prefixes lent and not given back yet.
        self.in_use = 0
        #: Messages received behind these prefixes for no request waiting there.
        self.dropped = 0
        self._free = []
        self._serial = itertools.count()
        self._lock = threading.Lock()

    def lend(self):
        """A prefix no request in flight uses, and a reply channel behind it never used before."""
        with self._lock:
            self.in_use += 1
            prefix = self._free.pop() if self._free else "http.response.%s!" % random_name_part()
        return prefix, "%s%d" % (prefix, next(self._serial))

    def give_back(self, prefix):
        """Take ``prefix`` back once nothing receives on it for the request it was lent to."""
        with self._lock:
            self.in_use -= 1
            self._free.append(prefix)

    def count_dropped(self, count, channel, reason):
        """Count ``count`` messages received on ``channel`` and dropped for ``reason``."""
        with self._lock:
            self.dropped += count
        logger.debug("dropped %d message(s) received on %s: %s", count, channel, reason)


class HttpFront(object):
    """
    What every HTTP front of the bridge (the WSGI one, the ASGI 3 one) is
    given, checked the same way: the layer, the request ``channel``, the
    timeouts, the body's limit and chunk size; and its reply prefix pool.
    """

    def __init__(self, channel_layer, channel=REQUEST_CHANNEL, response_timeout=RESPONSE_TIMEOUT,
                 max_body_size=MAX_BODY_SIZE, body_chunk_size=BODY_CHUNK_SIZE, send_timeout=SEND_TIMEOUT):
        channel_layer.valid_channel_name(channel)
        self.channel_layer = channel_layer
        self.channel = channel
        self.response_timeout = check_positive_number("response_timeout", response_timeout)
        self.max_body_size = None if max_body_size is None else check_positive_int("max_body_size", max_body_size)
        self.body_chunk_size = check_positive_int("body_chunk_size", body_chunk_size)
        self.send_timeout = check_positive_number("send_timeout", send_timeout)
        self.prefixes = ReplyPrefixes()
        #: What the front logs about a failing layer (each request then gets a 503 at once).
        self.outage = Outage(logger, "asgiref interface")


def error_answer(status, text):
    """
    The answer the bridge makes up itself for ``status``: ``(status,
    headers, body)``, plain text saying ``text``; a 503 tells the client when
    to try again (``Retry-After``). Both fronts answer with it.
    """
    body = ("%d %s\n%s\n" % (status, status_line(status)[4:], text)).encode("utf-8")
    headers = PLAIN_TEXT + (RETRY_LATER if status == 503 else []) + [
        [b"content-length", str(len(body)).encode("ascii")]]
    return status, headers, body


class Exchange(object):
    """
    One request's messages: ``http.request`` and body chunks out, the
    response in, on ``reply_channel``, behind ``reply_prefix``, which only
    this exchange receives on until :meth:`release`. Messages behind the
    prefix for other channels are from requests that used it before; they
    are dropped and counted.

    Each operation is a generator of steps (the module's docstring says how
    they are performed), driven until it yields ``(DONE, result)``. An
    operation never makes a call while another is in flight. A front that
    may abandon an operation mid-call (the ASGI 3 front, when its client
    leaves) lets that call end before :meth:`closing`, and calls
    :meth:`release` only after ``closing``: a receive left running on the
    prefix would take the next borrower's messages.

    A ``reply_channel`` given by the front (asgiref 1.1's
    ``get_reply_channel()`` hook) is used instead of one behind a lent
    prefix: the exchange receives on its ``!`` prefix if it has one, else on
    the channel itself, and nothing else in flight may receive there.

    A layer that fails (a call that raises LayerFailed, as the performers
    make of any error but ChannelFull and MessageTooLarge) is told to
    ``outage`` (an :class:`asgiref.bridge.layer_calls.Outage`, which logs it once)
    and answers for itself: 503 before the response started, a cut-off
    response after, nothing from :meth:`closing` (what is left expires).
    """

    def __init__(self, channel_layer, prefixes, path, outage=None, reply_channel=None):
        self.channel_layer = channel_layer
        self.prefixes = prefixes
        self.outage = outage
        if reply_channel is None:
            self.reply_prefix, self.reply_channel = prefixes.lend()
            self._lent = True
        else:
            channel_layer.valid_channel_name(reply_channel)
            # What receive() takes: a process-specific name ends at its "!".
            self.reply_prefix = channel_layer.non_local_name(reply_channel)
            self.reply_channel = reply_channel
            self._lent = False
        self.path = path
        self.body_channel = None
        #: The first response message (the status) has arrived.
        self.started = False
        #: The last response message has arrived.
        self.finished = False
        self._sent = False
        self._body_ended = True
        self._closed = False
        self._released = False

    def sending(self, channel, request, send_timeout):
        """
        Steps: send ``request`` on ``channel`` with the body's first chunk,
        and the rest of the body on a fresh body channel, each chunk as soon
        as the channel has room (the application has taken enough). Done
        with the first response message if the application answered before
        it took the whole body (the rest is not sent), else None.

        Raises Refused: 503 when ``channel`` is full or the layer fails, 431 for headers over
        the layer's message size, 504 when the application takes no chunk
        for ``send_timeout`` seconds, 502 for a malformed response.
        """
        layer = self.channel_layer
        request["body"], more = yield (BODY,)
        request["reply_channel"] = self.reply_channel
        if more:
            self.body_channel = request["body_channel"] = layer.new_channel("http.request.body?")
            self._body_ended = False
        try:
            # From here on the application may have the request, unless the send says otherwise.
            self._sent = True
            try:
                yield SEND, channel, request
            except layer.ChannelFull:
                self._sent = False
                raise Refused(503, "The application is too busy to take this request; try again shortly.")
            except layer.MessageTooLarge:
                self._sent = False
                raise Refused(431, "The request headers are too large.")
            if self.outage is not None:
                self.outage.succeeded()
            while more:
                content, more = yield (BODY,)
                patience = Patience(send_timeout, longest=BODY_RETRY)
                while True:
                    try:
                        yield SEND, self.body_channel, {"content": content, "more_content": more}
                        break
                    except layer.ChannelFull:
                        pass
                    # The application is not taking the body: if it has answered
                    # anyway, the rest is not sent (the closed chunk that tells it
                    # goes with the first step of response()).
                    channel_found, message = yield POLL, self.reply_prefix
                    while channel_found is not None:
                        try:
                            first = self.accept(channel_found, message)
                        except BadResponse as problem:
                            logger.error("malformed response on %s: %s", self.reply_channel, problem)
                            raise Refused(502, "The application sent a malformed response.")
                        if first is not None:
                            yield DONE, first
                            return
                        channel_found, message = yield POLL, self.reply_prefix
                    delay = patience.next_delay()
                    if delay is None:
                        raise Refused(504, "The application stopped reading the request body.")
                    yield PAUSE, delay
                self._body_ended = not more
            yield DONE, None
        except LayerFailed as failure:
            raise self._unavailable(failure)

    def response(self, timeout, first=None):
        """
        Steps: the next response message, done with it once it comes:
        ``first`` if given, else what arrives on the reply channel within
        ``timeout`` seconds (a Server Push and other requests' messages are
        dropped). Until the response has started, raises Refused: 502 for a
        malformed message, 504 when none comes in time. After, raises
        ResponseAborted: for a malformed chunk, a ``closed`` one, or none in
        time. A failing layer: 503 before, a cut-off response after. Problems
        are logged.
        """
        starting = not self.started
        deadline = clock() + timeout
        message = first
        try:
            while True:
                if not self._body_ended:
                    # A body given up while its channel was full: the closed
                    # chunk goes as soon as there is room, so the application
                    # stops reading.
                    try:
                        yield SEND, self.body_channel, {"closed": True}
                        self._body_ended = True
                    except self.channel_layer.ChannelFull:
                        pass
                if message is not None or clock() >= deadline:
                    break
                channel, received = yield RECEIVE, self.reply_prefix, deadline
                if channel is not None:
                    message = self.accept(channel, received)
        except BadResponse as problem:
            if starting:
                logger.error("malformed response on %s: %s", self.reply_channel, problem)
                raise Refused(502, "The application sent a malformed response.")
            logger.error("malformed response chunk on %s: %s", self.reply_channel, problem)
            raise ResponseAborted("the application sent a malformed response chunk: %s" % problem)
        except LayerFailed as failure:
            if starting:
                raise self._unavailable(failure)
            self._failed(failure)
            # The outage is logged once: the server's traceback need not chain the layer's.
            six.raise_from(ResponseAborted("the channel layer failed mid-response: %s" % failure), None)
        if message is None:
            if starting:
                raise Refused(504, "The application did not respond in time.")
            logger.error("response on %s stopped: no chunk within %ss", self.reply_channel, timeout)
            raise ResponseAborted("no response chunk came within %ss" % timeout)
        yield DONE, message

    def accept(self, channel, message):
        """
        Check a message received behind the reply prefix and return it, or
        None for one to drop: a Server Push, or a message for a request that
        used the prefix before (counted). Raises BadResponse for a malformed
        message and ResponseAborted for a ``closed`` one.
        """
        if channel != self.reply_channel:
            self.discard(channel)
            return None
        if not self.started and "request" in message and "status" not in message:
            return None
        problem = response_problem(message, first=not self.started)
        if problem:
            raise BadResponse(problem)
        if self.started and message.get("closed"):
            raise ResponseAborted("the application abandoned the response")
        self.started = True
        self.finished = not message.get("more_content")
        return message

    def closing(self):
        """
        Steps: the response is over, whole or not. Drops what this request
        left in the layer: body chunks the application did not take and,
        for a response cut short, the rest of the response (counted); then
        the application is told with ``http.disconnect`` that nobody reads
        any more. Later runs do nothing. Call :meth:`release` after it. A
        failing layer ends it early: what is left expires in the layer.
        """
        if self._closed or not self._sent:
            self._closed = True
            yield DONE, None
            return
        self._closed = True
        try:
            layer = self.channel_layer
            if self.body_channel is not None:
                yield DRAIN, self.body_channel
                if not self.finished:
                    # The application may still be reading: it stops at once.
                    try:
                        yield SEND, self.body_channel, {"closed": True}
                    except layer.ChannelFull:
                        pass
            if not self.finished:
                dropped = yield DRAIN, self.reply_prefix
                if dropped:
                    self.prefixes.count_dropped(dropped, self.reply_channel, "its request is over")
                try:
                    yield SEND, "http.disconnect", {"reply_channel": self.reply_channel, "path": self.path}
                except layer.ChannelFull:
                    logger.warning("http.disconnect is full; %s was not announced", self.reply_channel)
        except LayerFailed as failure:
            # What this request left expires in the layer.
            self._failed(failure)
        yield DONE, None

    def _failed(self, failure):
        """Tell the outage of a failed layer call (LayerFailed)."""
        if self.outage is not None:
            self.outage.failed(failure.error)

    def _unavailable(self, failure):
        """The Refused (503) of a request whose layer failed before its response started."""
        self._failed(failure)
        return Refused(503, UNAVAILABLE)

    def discard(self, channel):
        """Count a message received behind the reply prefix on ``channel`` that no request will get."""
        self.prefixes.count_dropped(1, channel, "its request is over")

    def release(self):
        """Give the reply prefix back for another request; later calls do nothing."""
        # Given back twice, a prefix could be lent to two requests at once.
        if not self._released:
            self._released = True
            if self._lent:
                self.prefixes.give_back(self.reply_prefix)

    def close(self):
        """:meth:`closing`, performed with blocking calls in this thread, then :meth:`release`."""
        try:
            perform(self.channel_layer, self.closing())
        finally:
            self.release()


def perform(channel_layer, steps, body=None):
    """
    Carry out an exchange operation's ``steps`` with blocking calls in this
    thread, taking body chunks from the iterator ``body``; return its result.
    """
    outcome = error = None
    while True:
        step = steps.send(outcome) if error is None else steps.throw(error)
        kind = step[0]
        if kind == DONE:
            steps.close()
            return step[1]
        outcome = error = None
        try:
            if kind == PAUSE:
                time.sleep(step[1])
            elif kind == BODY:
                outcome = next(body)
            else:
                outcome = blocking_call(channel_layer, step)
        except Exception as raised:
            error = raised


def blocking_call(channel_layer, step):
    """
    The layer call that a SEND, POLL, DRAIN or RECEIVE step asks for, made
    as a blocking call; its result. An error but ChannelFull and
    MessageTooLarge raises LayerFailed.
    """
    kind = step[0]
    with layer_call(channel_layer):
        if kind == SEND:
            return channel_layer.send(step[1], step[2])
        if kind == RECEIVE:
            return receive_blocking(channel_layer, [step[1]])
        if kind == POLL:
            return channel_layer.receive([step[1]], block=False)
        return drain(channel_layer, step[1])
