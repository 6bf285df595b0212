from django.conf.urls import url
from django.http import HttpResponse


def hello(request):
    """The trivial view."""
    return HttpResponse(b"Hello, world!\n", content_type="text/plain")


def upload(request):
    """The number of body bytes received."""
    return HttpResponse(("%d\n" % len(request.body)).encode("ascii"), content_type="text/plain")


urlpatterns = [url(r"^$", hello), url(r"^upload$", upload)]
