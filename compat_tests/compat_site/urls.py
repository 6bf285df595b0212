from django.conf.urls import url

from compat_site import views

urlpatterns = [
    url(r"^$", views.hello),
    url(r"^echo$", views.echo),
    url(r"^layer$", views.layer),
]
