"""No routes of its own: runserver routes http.request to Django's views."""
channel_routing = []
