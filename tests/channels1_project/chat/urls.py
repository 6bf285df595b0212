from django.conf.urls import url
from django.http import HttpResponse


def hello(request):
    return HttpResponse("hello from Channels 1 on %s, path %s" % (request.method, request.path),
                        content_type="text/plain")


urlpatterns = [url(r"^hello/$", hello)]
