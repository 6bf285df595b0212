"""Settings for the end-to-end test site: no database, no templates, CSRF on."""

# This module may be imported as ``django_site.settings`` or as
# ``tests.apps.django_site.settings``; the URLconf lives next to it either way.
_PACKAGE = __name__.rpartition(".")[0]

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "e2e-tests-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

ROOT_URLCONF = _PACKAGE + ".urls"
INSTALLED_APPS = []
DATABASES = {}
TEMPLATES = []

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

# Django mails uncaught exceptions to ADMINS when DEBUG is False; there are
# none, so the deliberate 500 is only logged.
ADMINS = []
