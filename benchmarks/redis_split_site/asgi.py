"""The Channels 1.x channel layer of the site, for Daphne 1.x (``redis_split_site.asgi:channel_layer``)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redis_split_site.settings")

from channels.asgi import get_channel_layer  # noqa: E402 (after the settings are named)

channel_layer = get_channel_layer()
