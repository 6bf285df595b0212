import io
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    with io.open(os.path.join(HERE, "asgiref", "__init__.py"), encoding="utf-8") as source:
        return re.search(r'__version__ = "([^"]+)"', source.read()).group(1)


with io.open(os.path.join(HERE, "README.rst"), encoding="utf-8") as readme:
    long_description = readme.read()

setup(
    name="asgiref",
    version=version(),
    description="Channel layers and WSGI adapters for channel-layer ASGI (ASGI 1)",
    long_description=long_description,
    long_description_content_type="text/x-rst",
    url="https://github.com/django/asgiref",
    license="BSD",
    packages=find_packages(exclude=["tests", "tests.*", "benchmarks"]),
    include_package_data=True,
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    install_requires=["six"],
    extras_require={
        # The HTTP servers of the asgiref command: waitress everywhere, and
        # on Python 3.9+ uvicorn with websockets (and uvloop) for the ASGI 3 front.
        # http_server drives waitress's internals (wasyncore's loop, the
        # server's socket map, channels and task dispatcher), which were
        # checked on 1.4.4, 2.0.0 and 3.0.2 only: the range stops there.
        "serve": [
            "waitress>=1.4.4,<3.1",
            "uvicorn>=0.30,<1; python_version >= '3.9'",
            "websockets>=13,<18; python_version >= '3.9'",
            # uvicorn's own choice of event loop where it installs (as in
            # uvicorn[standard]): the ASGI 3 front's layer calls and wake-ups
            # cost less on it.
            "uvloop>=0.19,<1; python_version >= '3.9' and sys_platform != 'win32' and sys_platform != 'cygwin'"
            " and platform_python_implementation != 'PyPy'",
        ],
        # receive_twisted of the in-memory layer (Daphne 1.4 needs 17.1 or later).
        "twisted": ["twisted>=17.1"],
        # asgiref.redis: redis-py (the newest each Python runs, as tested),
        # msgpack (C-accelerated on Python 2 below 1.0) and hiredis's parser.
        "redis": [
            "redis>=3.5,<4; python_version < '3'",
            "redis>=4.3,<4.4; python_version >= '3' and python_version < '3.7'",
            "redis>=4.3,<9; python_version >= '3.7'",
            "msgpack>=0.6.1,<1.0; python_version < '3'",
            "msgpack>=0.6.1,<2; python_version >= '3'",
            "hiredis>=1.0,<4; platform_python_implementation == 'CPython'",
        ],
        # asgiref.redis.RedisClusterChannelLayer: redis-py's cluster clients
        # (4.6.0 and 8.2 tested; 4.3.6's fails to follow a failover).
        "redis-cluster": [
            "redis>=4.6,<9; python_version >= '3.7'",
            "msgpack>=0.6.1,<2; python_version >= '3.7'",
            "hiredis>=1.0,<4; python_version >= '3.7' and platform_python_implementation == 'CPython'",
        ],
        # The Redis layer's symmetric_encryption_keys (Fernet).
        "redis-encryption": ["cryptography>=1.3"],
        # The asgiref command's --metrics: prometheus_client, the newest each
        # Python runs, as tested (0.12 on 2.7, 0.17 on 3.6, 0.26 on 3.13).
        "metrics": [
            "prometheus_client>=0.12,<0.13; python_version < '3'",
            "prometheus_client>=0.12,<0.18; python_version >= '3' and python_version < '3.7'",
            "prometheus_client>=0.12,<1; python_version >= '3.7'",
        ],
    },
    entry_points={"console_scripts": ["asgiref = asgiref.command:main"]},
    classifiers=[
        "Development Status :: 5 - Production/Stable",
        "Environment :: Web Environment",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: BSD License",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 2",
        "Programming Language :: Python :: 2.7",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.6",
        "Programming Language :: Python :: 3.7",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Internet :: WWW/HTTP",
    ],
)
