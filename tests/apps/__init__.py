"""
What the asgiref command serves in the tests: applications, a layer and a
Django site, imported by the command as top-level modules (``cli_apps:NAME``)
from this folder, which holds no package that would shadow an installed one
(tests/redis/ would shadow redis-py).
"""
