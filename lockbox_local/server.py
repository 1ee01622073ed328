"""The HTTP server in front of the gateway: Werkzeug's threaded WSGI server.

Its request handler also hands the gateway the headers exactly as received (names in
their case, repeated headers apart), which a WSGI environ cannot carry, and leaves the
access log to the gateway.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lockbox_local.gateway import RAW_HEADERS_KEY

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment


class RequestHandler(WSGIRequestHandler):
    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = [(name, value) for name, value in self.headers.items()]
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the gateway logs each request (without its body or credentials)

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class HttpServer:
    """A threaded server on host:port, serving in a background thread."""

    def __init__(self, host: str, port: int, app: WSGIApplication) -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=RequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="http-server", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
