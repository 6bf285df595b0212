"""Channels 1 over Redis with asgi_redis, at $REDIS_URL."""
import os

SECRET_KEY = "channels1-tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
ROOT_URLCONF = "chat.urls"
MIDDLEWARE = []
DATABASES = {}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.RedisChannelLayer",
        "ROUTING": "chat.routing.channel_routing",
        "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]},
    },
}
