"""
The ASGI 3 front: :class:`ChannelLayerApplication`, an ASGI 3 application
for servers such as uvicorn that hands HTTP requests and WebSockets to ASGI
1 workers over a channel layer. Python 3.9+ only: Python 2 never imports
this package (the asgiref command imports it only for ``--server uvicorn``).
"""
from .application import ChannelLayerApplication

__all__ = ["ChannelLayerApplication"]
