"""
The ``asgiref`` command (``serve``, ``interface``, ``worker``): its
options (``cli``), the two HTTP servers it runs, its log output and the
demo page it serves without an application.
"""
from .cli import main

__all__ = ["main"]
