"""Settings from the environment: REDIS_URL, CHANNELS=1 (Channels 1.x over asgi_redis), ROUTE=hello."""
import os

SECRET_KEY = "benchmark, not a secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "redis_split_site.urls"
INSTALLED_APPS = []
MIDDLEWARE = MIDDLEWARE_CLASSES = []
DATABASES = {}
USE_TZ = True
LOGGING_CONFIG = None
# The interop check posts 3 MB bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = None

if os.environ.get("CHANNELS") == "1":
    INSTALLED_APPS.append("channels")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "asgi_redis.RedisChannelLayer",
            # "views" routes nothing: Channels' own view consumer runs Django.
            "ROUTING": "redis_split_site.routing.%s" % ("hello" if os.environ.get("ROUTE") == "hello" else "views"),
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
        },
    }
