"""The views a Channels 1.x worker thread runs for the compatibility tests."""
import json
import threading

from channels import DEFAULT_CHANNEL_LAYER, channel_layers
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return HttpResponse("hello from %s" % threading.current_thread().__class__.__name__)


@csrf_exempt
def echo(request):
    return HttpResponse(request.body, content_type="application/octet-stream")


def layer(request):
    """What the test needs to know of the layer runserver made: its type, capacity, extensions, what workers passed."""
    layer = channel_layers[DEFAULT_CHANNEL_LAYER].channel_layer
    return HttpResponse(json.dumps({
        "class": "%s.%s" % (type(layer).__module__, type(layer).__name__),
        "capacity": layer.capacity,
        "extensions": list(layer.extensions),
        "worker_receive_types": sorted(layer.worker_receive_types),
    }), content_type="application/json")
