"""Settings of the compatibility site: Channels 1.x on asgiref.inmemory, asgiref 1.1's defaults."""
SECRET_KEY = "compat-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "compat_site.urls"
INSTALLED_APPS = ["channels"]
DATABASES = {}
MIDDLEWARE = []
CHANNEL_LAYERS = {
    "default": {
        # No CONFIG: the layer runs on its defaults, asgiref 1.1's (capacity 10).
        "BACKEND": "compat_site.layer.RecordingLayer",
        # No routes: runserver adds Channels' view consumer for http.request.
        "ROUTING": "compat_site.routing.channel_routing",
    },
}
