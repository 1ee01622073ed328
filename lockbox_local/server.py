"""The HTTP server in front of the gateway: Werkzeug's threaded WSGI server.

Its request handler also hands the gateway the headers exactly as received (names in
their case, repeated headers apart), which a WSGI environ cannot carry, and leaves the
access log to the gateway. What the contract asks of the local stack beyond that:
a request it cannot parse (bad request line, unsupported HTTP version, URL over 64 KiB,
too many or too long headers) is answered with the API's 4xx envelope in JSON, never
Python's HTML error page; no header names a server version; and a connection that sends
nothing for `idle_timeout` seconds is closed, so slow clients cannot hold threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lockbox_local.events import HttpResponse
from lockbox_local.gateway import RAW_HEADERS_KEY

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEFAULT_IDLE_TIMEOUT_SECONDS = 5.0
SERVER_NAME = "lockbox-local"  # the Server header: no product or language version


class Application(Protocol):
    """A WSGI app that also says what to answer a request too malformed to reach it."""

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Any: ...  # an iterable of bytes

    def protocol_error(self) -> HttpResponse: ...


class RequestHandler(WSGIRequestHandler):
    # The socket timeout of every read and write: an idle connection is closed after it.
    timeout = DEFAULT_IDLE_TIMEOUT_SECONDS

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = [(name, value) for name, value in self.headers.items()]
        return environ

    def version_string(self) -> str:
        return SERVER_NAME

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every error http.server detects itself answers the gateway's JSON envelope."""
        application: Application = self.server.app  # type: ignore[assignment]
        response = application.protocol_error()
        self.close_connection = True
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"  # else http.server omits the status line
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the gateway logs each request (without its body or credentials)

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class HttpServer:
    """A threaded server on host:port, serving in a background thread."""

    def __init__(
        self,
        host: str,
        port: int,
        app: Application,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT_SECONDS,
    ) -> None:
        handler = type("RequestHandler", (RequestHandler,), {"timeout": idle_timeout})
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
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
