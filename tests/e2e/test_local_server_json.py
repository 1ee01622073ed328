"""The local stack's HTTP server answers what it cannot parse in JSON (SPEC.md, Faults):
a malformed chunked body, a bad request line, an over-long URL, too many headers or an
unsupported HTTP version get 400 INVALID_REQUEST in the envelope, never an HTML page; no
header names a server version; an idle connection is closed after a timeout.

These talk to the server over a raw socket (no HTTP client would send such requests).
They concern the local server only: API Gateway's own front door is not ours to test,
so they are skipped when API_URL targets a deployed stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.helpers import ERRORS, assert_error, auth_headers, data_url, new_user, unique_key

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="the local stack's HTTP server only (API_URL targets a deployed stack)",
    ),
]

READ_TIMEOUT_SECONDS = 30.0
# The local stack closes a connection idle this long (lockbox_local's default)...
IDLE_TIMEOUT_SECONDS = 5.0
# ... and one whose request line and headers take longer than this (however slowly sent)...
HEAD_TIMEOUT_SECONDS = 10.0
# ... and this test allows it this much more before calling the connection held open.
IDLE_GRACE_SECONDS = 5.0
# A version number: digits with at least one dot (Werkzeug/3.1.9, Python/3.13.1).
VERSION = re.compile(r"\d+\.\d+")


@dataclass(frozen=True, slots=True)
class RawResponse:
    status_line: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


def _address(api_url: str) -> tuple[str, int]:
    url = urlsplit(api_url)
    return str(url.hostname), int(url.port or 80)


def send_raw(api_url: str, data: bytes) -> RawResponse:
    """Send bytes as they are, read until the server closes, parse the one response."""
    with socket.create_connection(_address(api_url), timeout=READ_TIMEOUT_SECONDS) as sock:
        # The server may answer and close before reading everything sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head, separator, body = received.partition(b"\r\n\r\n")
    assert separator, f"no HTTP response head in {received[:500]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    assert len(parts) >= 2, status_line
    assert parts[0].startswith("HTTP/"), status_line
    headers = [
        (name.strip(), value.strip()) for name, _, value in (x.partition(":") for x in lines)
    ]
    return RawResponse(status_line, int(parts[1]), headers, body)


def assert_invalid_request_envelope(response: RawResponse) -> None:
    """400, application/json, exactly the contract's INVALID_REQUEST body, CORS, no version."""
    status, message = ERRORS["INVALID_REQUEST"]
    assert response.status == status, (response.status_line, response.body[:500])
    content_type = response.header("Content-Type") or ""
    assert content_type.split(";")[0].strip() == "application/json", content_type
    assert json.loads(response.body) == {
        "status": "error",
        "code": "INVALID_REQUEST",
        "message": message,
    }
    length = response.header("Content-Length")
    assert length is not None
    assert int(length) == len(response.body)
    assert response.header("Access-Control-Allow-Origin"), response.headers
    assert_no_version(response.headers)


def assert_no_version(headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        if name.lower() in {"date", "content-length", "x-amzn-requestid", "etag"}:
            continue
        assert not VERSION.search(value), f"{name}: {value} names a version"
        assert "werkzeug" not in value.lower(), (name, value)
        assert "python" not in value.lower(), (name, value)


def test_malformed_chunked_body_answers_the_json_envelope(api_url: str) -> None:
    """Given a POST whose chunked body has a chunk size that is not hexadecimal, when the
    local server reads it, then it answers 400 INVALID_REQUEST in JSON (not a 500 page)."""
    response = send_raw(
        api_url,
        b"POST /api/register HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
    )

    assert_invalid_request_envelope(response)


def test_chunked_body_cut_short_answers_the_json_envelope(api_url: str) -> None:
    """Given a chunk that announces more bytes than follow and no terminating newline,
    then the answer is the same 400 envelope."""
    response = send_raw(
        api_url,
        b"POST /api/token HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\n{}{}XXXX\r\n0\r\n\r\n",
    )

    assert_invalid_request_envelope(response)


@pytest.mark.parametrize(
    "request_line",
    [
        b"GARBAGE",
        b"GET",
        b"GET /api/data/x HTTP/1.1 extra",
        b"GET /api/data/x FTP/1.1",
        b"GET /api/data/x HTTP/one.one",
    ],
    ids=["one-word", "method-only", "four-words", "not-http", "bad-version-number"],
)
def test_bad_request_line_answers_the_json_envelope(api_url: str, request_line: bytes) -> None:
    """Given a request line http.server cannot parse, then 400 INVALID_REQUEST in JSON."""
    response = send_raw(api_url, request_line + b"\r\nHost: localhost\r\n\r\n")

    assert_invalid_request_envelope(response)


def test_url_over_64_kib_answers_the_json_envelope(api_url: str) -> None:
    """Given a request line longer than http.server reads (65,536 bytes), then 400
    INVALID_REQUEST in JSON, not its HTML 414 page."""
    path = b"/api/data/" + b"a" * 70_000
    response = send_raw(api_url, b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")

    assert_invalid_request_envelope(response)


def test_more_than_100_headers_answers_the_json_envelope(api_url: str) -> None:
    """Given 120 headers (http.server's limit is 100), then 400 INVALID_REQUEST in JSON,
    not its HTML 431 page."""
    headers = b"".join(b"X-Filler-%d: value\r\n" % n for n in range(120))
    response = send_raw(
        api_url, b"GET /api/data/x HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"
    )

    assert_invalid_request_envelope(response)


def test_header_line_over_64_kib_answers_the_json_envelope(api_url: str) -> None:
    """Given one header line longer than 65,536 bytes, then 400 INVALID_REQUEST in JSON."""
    response = send_raw(
        api_url,
        b"GET /api/data/x HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"v" * 70_000 + b"\r\n\r\n",
    )

    assert_invalid_request_envelope(response)


@pytest.mark.parametrize("version", [b"HTTP/9.9", b"HTTP/2.0", b"HTTP/3"])
def test_unsupported_http_version_answers_the_json_envelope(api_url: str, version: bytes) -> None:
    """Given a request line with an HTTP version the server does not speak, then 400
    INVALID_REQUEST in JSON, not its HTML 505 page."""
    response = send_raw(api_url, b"GET /api/data/x " + version + b"\r\nHost: localhost\r\n\r\n")

    assert_invalid_request_envelope(response)


def test_no_header_names_a_server_version(api_url: str) -> None:
    """Given ordinary requests (a function's answer, a gateway 404, a preflight), then no
    header names Werkzeug, Python or any version; a Server header, if any, is neutral."""
    answers = [
        requests.post(f"{api_url}/api/token", json={}, timeout=READ_TIMEOUT_SECONDS),
        requests.get(f"{api_url}/no/such/route", timeout=READ_TIMEOUT_SECONDS),
        requests.options(f"{api_url}/api/data", timeout=READ_TIMEOUT_SECONDS),
    ]

    for answer in answers:
        assert_no_version(list(answer.headers.items()))
    raw = send_raw(api_url, b"GET /no/such/route HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_no_version(raw.headers)
    assert raw.header("Server") in (None, "lockbox-local")


def test_idle_connection_is_closed_after_the_timeout(api_url: str) -> None:
    """Given a client that connects and sends nothing, then the server closes the
    connection after its idle timeout instead of holding a thread for it forever."""
    limit = IDLE_TIMEOUT_SECONDS + IDLE_GRACE_SECONDS
    with socket.create_connection(_address(api_url), timeout=limit + 5) as sock:
        started = time.monotonic()
        try:
            received = sock.recv(1024)
        except TimeoutError:
            pytest.fail(f"the connection was still open after {limit + 5:g} s")
        except ConnectionResetError:
            received = b""
        elapsed = time.monotonic() - started

    assert received == b"", f"idle connection got {received[:200]!r}"
    assert elapsed <= limit, f"closed only after {elapsed:.1f} s"


def test_stalled_request_head_is_closed_after_the_timeout(api_url: str) -> None:
    """Given a client that sends half a request line and then stalls, then the server
    closes the connection after its idle timeout."""
    limit = IDLE_TIMEOUT_SECONDS + IDLE_GRACE_SECONDS
    with socket.create_connection(_address(api_url), timeout=limit + 5) as sock:
        sock.sendall(b"GET /api/da")
        started = time.monotonic()
        try:
            while sock.recv(1024):
                pass  # whatever it answers, it must then close
        except TimeoutError:
            pytest.fail(f"the connection was still open after {limit + 5:g} s")
        except ConnectionResetError:
            pass
        elapsed = time.monotonic() - started

    assert elapsed <= limit, f"closed only after {elapsed:.1f} s"


def test_request_head_trickled_in_is_cut_off_at_the_head_timeout(api_url: str) -> None:
    """Given a client that sends a header byte every second (never idle for the idle
    timeout), then the server still closes the connection once the head has taken longer
    than its head timeout, without answering a request it never fully received."""
    limit = HEAD_TIMEOUT_SECONDS + IDLE_GRACE_SECONDS
    received = b""
    with socket.create_connection(_address(api_url), timeout=1.0) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /no/such/route HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        closed = False
        while time.monotonic() - started < limit + 5:
            try:
                chunk = sock.recv(1024)
            except TimeoutError:
                chunk = None
            except ConnectionResetError:
                chunk = b""
            if chunk == b"":
                closed = True
                break
            if chunk:
                received += chunk
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        elapsed = time.monotonic() - started

    assert closed, f"the connection was still open after {elapsed:.1f} s"
    assert elapsed <= limit, f"closed only after {elapsed:.1f} s"
    assert received == b"", f"answered a request it never fully received: {received[:200]!r}"


def test_body_shorter_than_its_content_length_never_reaches_the_function(
    http: requests.Session, api_url: str
) -> None:
    """Given a store whose body is complete JSON but shorter than its Content-Length,
    sent by a client that then closes its side, then 400 INVALID_REQUEST in JSON, and the
    function never ran: the key was not stored."""
    user = new_user(http, api_url)
    key = unique_key()
    body = json.dumps({"key": key, "value": 1}).encode()
    head = (
        "POST /api/data HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Authorization: {auth_headers(user.token)['Authorization']}\r\n"
        f"Content-Length: {len(body) + 50}\r\n\r\n"
    ).encode()

    with socket.create_connection(_address(api_url), timeout=READ_TIMEOUT_SECONDS) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head_bytes, _, response_body = received.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines)]
    response = RawResponse(status_line, int(status_line.split()[1]), headers, response_body)

    assert_invalid_request_envelope(response)
    assert_error(
        http.get(data_url(api_url, key), headers=auth_headers(user.token)), 404, "KEY_NOT_FOUND"
    )
