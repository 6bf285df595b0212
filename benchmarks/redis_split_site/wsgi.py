"""The site as a WSGI application, for ``asgiref worker``."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redis_split_site.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after the settings are named)

application = get_wsgi_application()
