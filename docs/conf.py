"""
Sphinx configuration of asgiref's documentation: hand-written pages, no
autodoc, so the docs build without importing the package or its extras.

    sphinx-build -W -b html docs build/html     (or: tox -e docs)
"""
import io
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

with io.open(os.path.join(HERE, os.pardir, "asgiref", "__init__.py"), encoding="utf-8") as source:
    release = re.search(r'__version__ = "([^"]+)"', source.read()).group(1)

project = "asgiref"
author = "the asgiref developers"
copyright = "2026, the asgiref developers"
version = release
root_doc = "index"
exclude_patterns = ["_build"]
# Literal blocks are shell sessions, Python and tables: none is highlighted
# unless it says so, so a shell line never fails as Python.
highlight_language = "none"
html_theme = "alabaster"
