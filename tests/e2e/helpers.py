"""Plain helpers of the black-box suite: the contract's error table, unique identities,
registration and login, response assertions and JWT tampering.

Everything here speaks HTTP only; nothing imports the project's code or boto3, so the
suite runs unchanged against the local stack or a deployed one (API_URL).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

# SPEC.md, "Status codes and error codes", copied literally: code -> (HTTP status, message).
ERRORS: dict[str, tuple[int, str]] = {
    "INVALID_REQUEST": (
        400,
        "Invalid request. Please provide all required fields: username, email, password, full_name.",
    ),
    "USERNAME_EXISTS": (
        409,
        "The provided username is already taken. Please choose a different username.",
    ),
    "EMAIL_EXISTS": (
        409,
        "The provided email is already registered. Please use a different email address.",
    ),
    "INVALID_PASSWORD": (400, "The provided password does not meet the requirements."),
    "INVALID_AGE": (400, "Invalid age value. Age must be a positive integer."),
    "GENDER_REQUIRED": (
        400,
        "Gender field is required. Please specify the gender (e.g., male, female, non-binary).",
    ),
    "MISSING_FIELDS": (400, "Missing fields. Please provide both username and password."),
    "INVALID_CREDENTIALS": (
        401,
        "Invalid credentials. The provided username or password is incorrect.",
    ),
    "INVALID_KEY": (400, "The provided key is not valid or missing."),
    "INVALID_VALUE": (400, "The provided value is not valid or missing."),
    "KEY_EXISTS": (
        409,
        "The provided key already exists in the database. To update an existing key, use the update API.",
    ),
    "KEY_NOT_FOUND": (404, "The provided key does not exist in the database."),
    "INVALID_TOKEN": (401, "Invalid access token provided."),
    "INVALID_REFRESH_TOKEN": (401, "Invalid or expired refresh token."),
    "INVALID_TTL": (
        400,
        "The provided ttl is not valid. It must be a whole number of seconds from 1 to 31536000.",
    ),
    "INVALID_EMAIL_TOKEN": (400, "The link is invalid, has expired or was already used."),
    "EMAIL_NOT_VERIFIED": (403, "Please verify your email address first."),
    "INVALID_PARAMETER": (400, "A query parameter is not valid."),
    "PRECONDITION_FAILED": (
        412,
        "The key was changed by another request. Read it again and retry.",
    ),
    "MFA_REQUIRED": (401, "A second factor is required."),
    "INVALID_MFA_CODE": (401, "The code is not valid."),
    "MFA_ALREADY_ENABLED": (409, "Two-factor authentication is already on."),
    "MFA_NOT_ENABLED": (409, "Two-factor authentication is not on."),
    "SESSION_NOT_FOUND": (404, "The session does not exist or has ended."),
    "INVALID_METADATA": (
        400,
        "The provided metadata is not valid. It must be a JSON object of at most 1024 bytes.",
    ),
    "VALUE_NOT_A_NUMBER": (409, "The stored value is not a number."),
    "NOT_FOUND": (404, "The requested resource was not found."),
    "TOO_MANY_REQUESTS": (429, "Too many requests. Please try again later."),
    "INTERNAL_ERROR": (500, "An internal server error occurred. Please try again later."),
}

# SPEC.md success messages.
REGISTERED = "User successfully registered!"
TOKEN_ISSUED = "Access token generated successfully."
STORED = "Data stored successfully."
UPDATED = "Data updated successfully."
DELETED = "Data deleted successfully."

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"
TOKEN_LIFETIME_SECONDS = 3600
JWT_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti")

# Bodies that are not a JSON object: each must be INVALID_REQUEST on every endpoint.
NOT_JSON_OBJECT_BODIES: dict[str, bytes] = {
    "malformed": b'{"username": "abc", ',
    "array": b'["username", "password"]',
    "string": b'"just a string"',
    "number": b"42",
    "null": b"null",
    "boolean": b"true",
    "empty": b"",
}


# --- identities --------------------------------------------------------------------


def unique_suffix(length: int = 16) -> str:
    return uuid.uuid4().hex[:length]


def unique_username(prefix: str = "e2e") -> str:
    """A username no run has used before (3-32 characters of [A-Za-z0-9_.-])."""
    return f"{prefix[:10]}_{unique_suffix(20)}"


def unique_email(username: str | None = None) -> str:
    local = username or f"e2e_{unique_suffix(20)}"
    return f"{local}@example.com"


def unique_key(prefix: str = "key") -> str:
    return f"{prefix}-{unique_suffix(12)}"


def registration_body(**overrides: Any) -> dict[str, Any]:
    """A valid registration for a fresh user; keyword arguments replace or add fields."""
    body: dict[str, Any] = {
        "username": unique_username(),
        "email": unique_email(),
        "password": DEFAULT_PASSWORD,
        "full_name": "End To End",
        "age": 30,
        "gender": "female",
    }
    body.update(overrides)
    return body


def without(body: dict[str, Any], *fields: str) -> dict[str, Any]:
    """A copy of the body without these fields."""
    return {name: value for name, value in body.items() if name not in fields}


# --- calls ---------------------------------------------------------------------------


class Lockout:
    """When a scenario's lockouts started, to tell whether each still held when checked.

    A lockout runs from its failure's answer, so `starts(seconds)` is called just before
    sending that failure and `checked()` once the last call that relies on it has
    answered: if less than `seconds` passed between them, the name was locked throughout.
    """

    def __init__(self) -> None:
        self.held = True
        self._since: tuple[float, float] | None = None

    def starts(self, seconds: float) -> None:
        self.checked()
        self._since = (time.monotonic(), seconds)

    def checked(self) -> None:
        if self._since is not None:
            started, seconds = self._since
            self.held = self.held and time.monotonic() - started < seconds
            self._since = None


def five_failures(
    fail: Callable[[], requests.Response], lockout: Lockout
) -> list[requests.Response]:
    """Five answers of `fail`, a call that fails a password (or code) check; the fifth
    starts the first lockout, of 1 s."""
    answers = [fail() for _ in range(4)]
    lockout.starts(1)
    return [*answers, fail()]


def within_lockouts[T](scenario: Callable[[Lockout], T], tries: int = 3) -> T:
    """What `scenario` saw, from a run in which every lockout it started held until it was
    checked. The first lockout lasts 1 s; a machine that pauses for longer inside one lets
    it run out, which proves nothing, so the scenario runs again (with new names)."""
    for _ in range(tries):
        lockout = Lockout()
        seen = scenario(lockout)
        lockout.checked()
        if lockout.held:
            return seen
    raise AssertionError(f"each of {tries} runs paused past its lockout: nothing was shown")


def register(http: requests.Session, api_url: str, body: Any) -> requests.Response:
    return http.post(f"{api_url}/api/register", json=body)


def request_token(
    http: requests.Session, api_url: str, username: Any, password: Any
) -> requests.Response:
    return http.post(f"{api_url}/api/token", json={"username": username, "password": password})


def post_raw(
    http: requests.Session, url: str, raw: bytes, headers: dict[str, str] | None = None
) -> requests.Response:
    """POST bytes as they are, declared as JSON."""
    return http.post(url, data=raw, headers={"Content-Type": "application/json", **(headers or {})})


@dataclass(frozen=True)
class User:
    username: str
    email: str
    password: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.token)


def log_in(http: requests.Session, api_url: str, username: str, password: str) -> dict[str, Any]:
    """The data of a login with these credentials (asserts it succeeds): tokens, lifetimes."""
    response = request_token(http, api_url, username, password)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def login(http: requests.Session, api_url: str, username: str, password: str) -> str:
    """The access token for these credentials (asserts the login succeeds)."""
    return str(log_in(http, api_url, username, password)["access_token"])


def new_user(http: requests.Session, api_url: str, **overrides: Any) -> User:
    """Register a fresh user and log in: the user with an access token."""
    body = registration_body(**overrides)
    response = register(http, api_url, body)
    assert response.status_code == 200, response.text
    user_id = response.json()["data"]["user_id"]
    token = login(http, api_url, body["username"], body["password"])
    return User(body["username"], body["email"], body["password"], user_id, token)


def new_users_account(
    http: requests.Session, api_url: str, password: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sign up a fresh account on /users/register (Grace Hopper, a unique email): the body
    sent and the 201's body (token and user)."""
    signup = {
        "fullname": {"firstname": "Grace", "lastname": "Hopper"},
        "email": unique_email(),
        "password": password,
    }
    created = http.post(f"{api_url}/users/register", json=signup)
    assert created.status_code == 201, created.text
    return signup, dict(created.json())


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def data_url(api_url: str, key: str) -> str:
    """The URL of one key: the key percent-encoded as a single path segment."""
    return f"{api_url}/api/data/{quote(key, safe='')}"


def store(
    http: requests.Session, api_url: str, token: str, key: Any, value: Any
) -> requests.Response:
    return http.post(
        f"{api_url}/api/data", json={"key": key, "value": value}, headers=auth_headers(token)
    )


def fetch(http: requests.Session, api_url: str, token: str, key: str) -> requests.Response:
    return http.get(data_url(api_url, key), headers=auth_headers(token))


def update(
    http: requests.Session, api_url: str, token: str, key: str, value: Any
) -> requests.Response:
    return http.put(data_url(api_url, key), json={"value": value}, headers=auth_headers(token))


def delete(http: requests.Session, api_url: str, token: str, key: str) -> requests.Response:
    return http.delete(data_url(api_url, key), headers=auth_headers(token))


def delete_quietly(http: requests.Session, api_url: str, token: str, key: str) -> None:
    """Clean-up: delete the key if it is still there (200 or 404 are both fine)."""
    response = delete(http, api_url, token, key)
    assert response.status_code in (200, 404), response.text


# --- assertions ----------------------------------------------------------------------


def assert_json(response: requests.Response) -> Any:
    """The response is JSON (never HTML, never empty) and declared as such: its body."""
    content_type = response.headers.get("Content-Type", "")
    assert content_type.split(";")[0].strip().lower() == "application/json", (
        f"Content-Type {content_type!r}: {response.text[:200]!r}"
    )
    assert not response.text.lstrip().startswith("<"), response.text[:200]
    return response.json()


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's error envelope for this code: its body."""
    expected_status, message = ERRORS[code]
    assert status == expected_status, f"{code} is {expected_status} in SPEC.md, not {status}"
    assert response.status_code == status, (
        f"expected {status} {code}, got {response.status_code}: {response.text[:500]}"
    )
    body = assert_json(response)
    assert isinstance(body, dict), body
    # `data` only on MFA_REQUIRED: the one error that carries data (its mfa_token).
    allowed = {"status", "code", "message", "details"} | (
        {"data"} if code == "MFA_REQUIRED" else set()
    )
    assert set(body) <= allowed, body
    assert body["status"] == "error", body
    assert body["code"] == code, body
    assert body["message"] == message, body
    if "details" in body:
        assert isinstance(body["details"], list), body
        for problem in body["details"]:
            assert set(problem) == {"field", "message"}, problem
            assert isinstance(problem["field"], str), problem
            assert isinstance(problem["message"], str), problem
            assert problem["message"], problem
    return body


def assert_code(response: requests.Response, code: str) -> dict[str, Any]:
    """The response is the contract's error envelope for this code, at its status."""
    return assert_error(response, ERRORS[code][0], code)


def assert_success(response: requests.Response, message: str | None = None) -> dict[str, Any]:
    """A 200 success envelope (with this exact message, when given): its body."""
    assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
    body = assert_json(response)
    assert isinstance(body, dict), body
    assert body["status"] == "success", body
    if message is not None:
        assert body.get("message") == message, body
    return body


def detail_fields(body: dict[str, Any]) -> set[str]:
    """The fields named in an error's details (empty when it has none)."""
    return {problem["field"] for problem in body.get("details", [])}


def canonical(value: Any) -> str:
    """JSON text that tells apart what Python's == does not (True vs 1, 1 vs 1.0, key order)."""
    return json.dumps(value, ensure_ascii=False)


# --- JWT (no verification: the suite holds no key) -----------------------------------


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """The header, payload and signature of a JWT, decoded without verification."""
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        json.loads(b64url_decode(payload)),
        b64url_decode(signature),
    )


def encode_json_segment(part: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(part, separators=(",", ":")).encode("utf-8"))


def with_payload(token: str, **claims: Any) -> str:
    """The token with its payload changed (claims set to None are removed) and its
    original signature kept, which no longer matches: the suite cannot sign tokens."""
    header, payload, signature = token.split(".")
    decoded = json.loads(b64url_decode(payload))
    for name, value in claims.items():
        if value is None:
            decoded.pop(name, None)
        else:
            decoded[name] = value
    return f"{header}.{encode_json_segment(decoded)}.{signature}"


def with_header(token: str, **fields: Any) -> str:
    """The token with its JOSE header changed and its original signature kept."""
    header, payload, signature = token.split(".")
    decoded = json.loads(b64url_decode(header))
    decoded.update(fields)
    return f"{encode_json_segment(decoded)}.{payload}.{signature}"


def with_flipped_signature(token: str) -> str:
    """The token with every bit of its signature's first byte flipped."""
    header, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[0] ^= 0xFF
    return f"{header}.{payload}.{b64url_encode(bytes(raw))}"


def unsigned(token: str) -> str:
    """The token re-headed as {"alg": "none"} with an empty signature (the classic forgery)."""
    _, payload, _ = token.split(".")
    return f"{encode_json_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}."


# --- the local mailbox (aws-ses-v2-local's GET /store) -------------------------------------

MAIL_WAIT_SECONDS = 20.0  # the stream poller hands a request to the sender within a second or two


def mails_to(mailbox_url: str, address: str) -> list[dict[str, Any]]:
    """Every mail the local SES stand-in holds for this address, oldest first (read
    without the suite's session, which checks answers against the API's OpenAPI)."""
    response = requests.get(f"{mailbox_url}/store", timeout=5)
    assert response.status_code == 200, response.text
    emails: list[dict[str, Any]] = response.json()["emails"]
    return [mail for mail in emails if address in mail["destination"]["to"]]


def next_mail(mailbox_url: str, address: str, already: int) -> dict[str, Any]:
    """The first mail to the address after the `already` it had (waits for the sender)."""
    import time

    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        mails = mails_to(mailbox_url, address)
        if len(mails) > already:
            return mails[already]
        time.sleep(0.2)
    raise AssertionError(f"no mail number {already + 1} to {address} within {MAIL_WAIT_SECONDS} s")


def link_token(mail: dict[str, Any], path: str) -> str:
    """The token of the `{AppUrl}/<path>?token=...` link in the mail's text body."""
    import re

    found = re.search(rf"/{path}\?token=([A-Za-z0-9._-]+)", mail["body"]["text"])
    assert found, f"no {path} link in {mail['subject']!r}"
    return found[1]
