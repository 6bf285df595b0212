"""
The page ``asgiref serve`` shows when given no application: proof that the
whole stack works, showing the request as the application saw it and the
channel layer's statistics at that moment.
"""
from __future__ import unicode_literals

import sys

from ..wsgi.mapping import from_native

_SHOWN_KEYS = [
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL", "SERVER_NAME",
    "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT", "CONTENT_TYPE", "CONTENT_LENGTH", "wsgi.url_scheme",
    "wsgi.multithread", "wsgi.multiprocess",
]


def layer_name(layer):
    """
    The dotted name users import ``layer``'s class by: the outermost
    package that hands it out (``asgiref.redis.RedisChannelLayer``,
    ``asgiref.redis.RedisClusterChannelLayer``), else its module's.
    """
    kind = type(layer)
    module = kind.__module__
    package = module.rpartition(".")[0]
    while package and getattr(sys.modules.get(package), kind.__name__, None) is kind:
        module, package = package, package.rpartition(".")[0]
    return "%s.%s" % (module, kind.__name__)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>asgiref is serving</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ text-align: left; padding: .2em 1em .2em 0; border-bottom: 1px solid #ddd; vertical-align: top; }}
code, td {{ font-family: monospace; }}
</style></head><body>
<h1>asgiref is serving this page through a channel layer</h1>
<p>Your request went from the HTTP server to <code>http.request</code> on the layer, a worker thread ran
this WSGI application, and the response came back over the layer.</p>
<h2>The request as the application saw it</h2>
<table>{environ}</table>
<h2>Request headers</h2>
<table>{headers}</table>
<p>Request body: {body_length} bytes.</p>
<form method="post" action="">
<input name="message" value="hello through the layer"> <button>Send it as a POST</button></form>
<h2>Channel layer: <code>{layer}</code></h2>
<p>Extensions: {extensions}.</p>
{statistics}
{live}
<p><a href="">Reload</a> to see the statistics move. To serve your own application:
<code>asgiref serve mysite.wsgi:application</code></p>
</body></html>
"""

# The statistics as a WebSocket brings them, once a second.
_LIVE = """<h3>Live, over a WebSocket through the layer</h3><pre id="live">connecting...</pre>
<script>
(function () {
  var shown = document.getElementById("live");
  var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "PATH");
  socket.onmessage = function (event) { shown.textContent = JSON.stringify(JSON.parse(event.data), null, 2); };
  socket.onclose = function (event) { shown.textContent += "\\nclosed (" + event.code + ")"; };
})();
</script>"""


class DemoApplication(object):
    """
    A WSGI application that describes the request it got and the state of
    ``channel_layer``; with ``live_path``, the page also opens a WebSocket
    there and shows the statistics it receives (asgiref.command.demo_live).
    """

    def __init__(self, channel_layer, live_path=None):
        self.channel_layer = channel_layer
        self.live_path = live_path

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read()
        page = _PAGE.format(
            environ=_rows((key, environ[key]) for key in _SHOWN_KEYS if key in environ),
            headers=_rows((key[5:].replace("_", "-").title(), value)
                          for key, value in sorted(environ.items()) if key.startswith("HTTP_")),
            body_length=len(body),
            layer=_escape(layer_name(self.channel_layer)),
            extensions=_escape(", ".join(self.channel_layer.extensions) or "none"),
            statistics=self._statistics(),
            live=_LIVE.replace("PATH", self.live_path) if self.live_path else "",
        ).encode("utf-8")
        start_response(str("200 OK"), [
            (str("Content-Type"), str("text/html; charset=utf-8")),
            (str("Content-Length"), str(len(page))),
            (str("Cache-Control"), str("no-store")),
        ])
        return [page]

    def _statistics(self):
        if "statistics" not in self.channel_layer.extensions:
            return "<p>This layer keeps no statistics.</p>"
        return "<h3>Whole layer</h3><table>%s</table><h3>http.request</h3><table>%s</table>" % (
            _rows(sorted(self.channel_layer.global_statistics().items())),
            _rows(sorted(self.channel_layer.channel_statistics("http.request").items())),
        )


def _rows(pairs):
    return "".join("<tr><th>%s</th><td>%s</td></tr>" % (_escape(_text(key)), _escape(_text(value)))
                   for key, value in pairs)


def _text(value):
    if isinstance(value, (bytes, str)):
        # A WSGI native string: show its bytes as the UTF-8 they usually are.
        return from_native(value).decode("utf-8", "replace")
    if isinstance(value, float):
        return "%.3f" % value
    return "%s" % (value,)


def _escape(text):
    for character, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        text = text.replace(character, entity)
    return text
