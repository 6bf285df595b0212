"""
The bridge core, shared by both HTTP fronts (the WSGI front in
asgiref.wsgi and the ASGI 3 front in asgiref.asgi3): one request's round
trip through a channel layer (:class:`Exchange`), the reply prefixes it
lends, the checks on requests and responses, and the calls to a layer that
may fail (``layer_calls``). No HTTP server and no particular layer.
"""
from __future__ import unicode_literals

from .exchange import (
    BODY, CHANNEL_CAPACITY, DONE, DRAIN, PAUSE, POLL, RECEIVE, SEND, BadResponse, Exchange, HttpFront, Refused,
    ReplyPrefixes, ResponseAborted, blocking_call, error_answer, perform)

__all__ = [
    "BODY", "CHANNEL_CAPACITY", "DONE", "DRAIN", "PAUSE", "POLL", "RECEIVE", "SEND", "BadResponse", "Exchange",
    "HttpFront", "Refused", "ReplyPrefixes", "ResponseAborted", "blocking_call", "error_answer", "perform",
]
