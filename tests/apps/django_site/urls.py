"""URLs of the test site, written with regular expressions so that every Django version reads them."""
from __future__ import unicode_literals

try:
    from django.urls import re_path
except ImportError:  # Django 1.11: no re_path yet (django.conf.urls.url went away in 4.0).
    from django.conf.urls import url as re_path

from . import views

urlpatterns = [
    re_path(r"^echo/$", views.echo),
    re_path("^caf\u00e9/$", views.echo),
    re_path("^snow-\u2603/$", views.echo),
    re_path(r"^whoami/$", views.whoami),
    re_path(r"^body-length/$", views.body_length),
    re_path(r"^form/$", views.form_page),
    re_path(r"^form/submit/$", views.form_submit),
    re_path(r"^upload/$", views.upload),
    re_path(r"^stream/$", views.stream),
    re_path(r"^stream/held/(?P<key>[-a-z0-9]+)/$", views.held_stream),
    re_path(r"^release/(?P<key>[-a-z0-9]+)/$", views.release),
    re_path(r"^download/(?P<size>[0-9]+)/$", views.download),
    re_path(r"^redirect/$", views.redirect),
    re_path(r"^boom/$", views.boom),
    re_path(r"^cookies/$", views.cookies),
]
