"""
asgiref: channel layers and WSGI adapters for channel-layer ASGI (ASGI 1).
"""

# A 1.1.x version, so that projects pinning asgiref~=1.1 (Channels 1.x,
# Daphne 1.x) or asgiref~=1.1.2 (asgi_redis 1.x, asgi_ipc 1.x) accept it.
__version__ = "1.1.4"
