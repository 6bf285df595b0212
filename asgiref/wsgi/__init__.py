"""
WSGI on both sides of a channel layer (spec sections 5 and 6, PEP 3333).

``WsgiToAsgiAdapter`` (``asgiref.wsgi.front``) is a WSGI application that
puts each request on the layer as an ``http.request`` message and streams
back the response: a WSGI server in front of ASGI. ``AsgiToWsgiAdapter``
(``asgiref.wsgi.worker``) serves ``http.request`` messages with a WSGI
application, in worker threads: a WSGI application behind ASGI. Both names,
and ``RequestAborted``, stay importable from here, where asgiref 1.1 code
imports them.
"""
from __future__ import unicode_literals

from ..bridge import ResponseAborted
from .front import WsgiToAsgiAdapter
from .input import RequestAborted
from .worker import AsgiToWsgiAdapter

__all__ = ["AsgiToWsgiAdapter", "RequestAborted", "ResponseAborted", "WsgiToAsgiAdapter"]
