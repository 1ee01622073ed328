"""The HTTP server in front of the gateway: Werkzeug's threaded WSGI server.

Its request handler also hands the gateway the headers exactly as received (names in
their case, repeated headers apart), which a WSGI environ cannot carry, and leaves the
access log to the gateway. What the contract asks of the local stack beyond that:
a request it cannot parse (bad request line, unsupported HTTP version, URL over 64 KiB,
too many or too long headers) is answered with the API's 4xx envelope in JSON, never
Python's HTML error page; no header names a server version; and slow clients cannot hold
threads: a connection that sends nothing for `idle_timeout` seconds is closed, and so is
one that has not finished its request line and headers `head_timeout` seconds after it
began them (however slowly it trickles bytes in).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lockbox_local.events import HttpResponse
from lockbox_local.gateway import RAW_HEADERS_KEY

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEFAULT_IDLE_TIMEOUT_SECONDS = 5.0
DEFAULT_HEAD_TIMEOUT_SECONDS = 10.0
_WATCH_INTERVAL_SECONDS = 0.2
SERVER_NAME = "lockbox-local"  # the Server header: no product or language version


class Application(Protocol):
    """A WSGI app that also says what to answer a request too malformed to reach it."""

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Any: ...  # an iterable of bytes

    def protocol_error(self) -> HttpResponse: ...


class HeadDeadlines:
    """Connections still sending their request head, each with the time it must be done
    by; a watcher thread shuts down the ones that are late (their blocked read returns)."""

    def __init__(self, limit: float) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._pending: dict[socket.socket, float] = {}
        self._late: set[socket.socket] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="http-head-deadlines", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1)

    def begin(self, connection: socket.socket) -> None:
        with self._lock:
            self._pending[connection] = time.monotonic() + self._limit

    def head_done(self, connection: socket.socket) -> bool:
        """The head arrived: no deadline any more. False if it came too late (cut off)."""
        with self._lock:
            self._pending.pop(connection, None)
            return connection not in self._late

    def forget(self, connection: socket.socket) -> None:
        with self._lock:
            self._pending.pop(connection, None)
            self._late.discard(connection)

    def _watch(self) -> None:
        while not self._stop.wait(_WATCH_INTERVAL_SECONDS):
            now = time.monotonic()
            with self._lock:
                late = [connection for connection, due in self._pending.items() if due <= now]
                for connection in late:
                    del self._pending[connection]
                    self._late.add(connection)
            for connection in late:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class RequestHandler(WSGIRequestHandler):
    # The socket timeout of every read and write: an idle connection is closed after it.
    timeout = DEFAULT_IDLE_TIMEOUT_SECONDS
    head_deadlines: HeadDeadlines | None = None

    def handle_one_request(self) -> None:
        if self.head_deadlines is not None:
            self.head_deadlines.begin(self.connection)
        try:
            super().handle_one_request()
        finally:
            if self.head_deadlines is not None:
                self.head_deadlines.forget(self.connection)

    def run_wsgi(self) -> None:
        # A head cut off at its deadline may look complete (the headers end at EOF):
        # it is dropped, never handed to the gateway.
        if self.head_deadlines is not None and not self.head_deadlines.head_done(self.connection):
            self.close_connection = True
            return
        super().run_wsgi()

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = [(name, value) for name, value in self.headers.items()]
        return environ

    def version_string(self) -> str:
        return SERVER_NAME

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every error http.server detects itself answers the gateway's JSON envelope."""
        if self.head_deadlines is not None and not self.head_deadlines.head_done(self.connection):
            self.close_connection = True  # cut off at the deadline: nobody to answer
            return
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
        head_timeout: float | None = DEFAULT_HEAD_TIMEOUT_SECONDS,
    ) -> None:
        self._head_deadlines = HeadDeadlines(head_timeout) if head_timeout else None
        handler = type(
            "RequestHandler",
            (RequestHandler,),
            {"timeout": idle_timeout, "head_deadlines": self._head_deadlines},
        )
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
        if self._head_deadlines is not None:
            self._head_deadlines.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._head_deadlines is not None:
            self._head_deadlines.stop()
