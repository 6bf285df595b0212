"""
The Django site of benchmarks/redis_split.py, the same on both sides: a
trivial view for Django 2.2 behind ``asgiref worker``, and on Django 1.11
with Channels 1.1.8 (``CHANNELS=1``) the same view, or a bare ``http.request``
consumer (``ROUTE=hello``), behind Daphne and ``runworker`` over asgi_redis.
"""
