"""Responses API Gateway makes itself: unknown routes and methods are 404 NOT_FOUND and a
body over 10 MB is 400 INVALID_REQUEST, each with the contract's JSON envelope, never
HTML or a bare {"message": ...}."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.e2e.helpers import User, assert_error, auth_headers, new_user, registration_body

pytestmark = pytest.mark.e2e

TEN_MIB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def user(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


UNKNOWN_PATHS = [
    ("GET", "/"),
    ("GET", "/api"),
    ("GET", "/api/"),
    ("GET", "/api/unknown"),
    ("POST", "/api/registration"),
    ("POST", "/api/register/extra"),
    ("POST", "/api/tokens"),
    ("POST", "/API/REGISTER"),
    ("GET", "/favicon.ico"),
    ("GET", "/index.html"),
    ("DELETE", "/api/data/a/b"),
]


@pytest.mark.parametrize(
    ("method", "path"), UNKNOWN_PATHS, ids=[f"{m} {p}" for m, p in UNKNOWN_PATHS]
)
def test_unknown_paths_are_not_found(
    http: requests.Session, api_url: str, method: str, path: str
) -> None:
    """Given a path the API does not define, when it is called without a token, then the
    answer is 404 NOT_FOUND as JSON."""
    response = http.request(method, f"{api_url}{path}", json={})

    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"), UNKNOWN_PATHS, ids=[f"{m} {p}" for m, p in UNKNOWN_PATHS]
)
def test_unknown_paths_are_not_found_with_a_valid_token(
    http: requests.Session, api_url: str, user: User, method: str, path: str
) -> None:
    """Given a path the API does not define, when it is called with a valid token, then
    the answer is still 404 NOT_FOUND."""
    response = http.request(method, f"{api_url}{path}", json={}, headers=auth_headers(user.token))

    assert_error(response, 404, "NOT_FOUND")


UNKNOWN_METHODS = [
    ("GET", "/api/register"),
    ("PUT", "/api/register"),
    ("DELETE", "/api/register"),
    ("PATCH", "/api/register"),
    # OPTIONS is no unknown method: on every route it is the CORS preflight (test_cors.py).
    ("GET", "/api/token"),
    ("DELETE", "/api/token"),
    ("PUT", "/api/data"),
    ("DELETE", "/api/data"),
    ("PATCH", "/api/data"),
    ("PATCH", "/api/data/x"),
    ("POST", "/api/data/x"),
]


@pytest.mark.parametrize(
    ("method", "path"), UNKNOWN_METHODS, ids=[f"{m} {p}" for m, p in UNKNOWN_METHODS]
)
def test_unknown_methods_on_known_paths_are_not_found(
    http: requests.Session, api_url: str, user: User, method: str, path: str
) -> None:
    """Given a known path and a method it does not define, when it is called (with a
    valid token, which must not matter), then the answer is 404 NOT_FOUND as JSON."""
    response = http.request(
        method, f"{api_url}{path}", json={"value": 1}, headers=auth_headers(user.token)
    )

    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/api/data", "/api/data/x"])
def test_unknown_method_without_a_token_is_not_found_not_unauthorized(
    http: requests.Session, api_url: str, path: str
) -> None:
    """Given a data path and PATCH, which no route defines, when it is called without a
    token, then the answer is 404 NOT_FOUND (there is nothing to authorize)."""
    response = http.patch(f"{api_url}{path}", json={"value": 1})

    assert_error(response, 404, "NOT_FOUND")


def oversized_json(size: int) -> bytes:
    """A syntactically valid JSON registration body of at least `size` bytes."""
    body = registration_body(full_name="x")
    text = json.dumps({**body, "padding": ""})
    return text.replace('"padding": ""', '"padding": "' + "p" * size + '"').encode()


def test_body_over_10_mb_is_refused_on_register(http: requests.Session, api_url: str) -> None:
    """Given a JSON body just over 10 MiB, when posted to /api/register, then the answer
    is 400 INVALID_REQUEST as JSON (API Gateway's payload limit)."""
    raw = oversized_json(TEN_MIB + 1024)

    response = http.post(
        f"{api_url}/api/register", data=raw, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "INVALID_REQUEST")


def test_body_over_10_mb_is_refused_on_data(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a valid token and a JSON body just over 10 MiB, when posted to /api/data,
    then the answer is 400 INVALID_REQUEST as JSON."""
    raw = json.dumps({"key": "huge", "value": "v" * (TEN_MIB + 1024)}).encode()

    response = http.post(
        f"{api_url}/api/data",
        data=raw,
        headers={"Content-Type": "application/json", **auth_headers(user.token)},
    )

    assert_error(response, 400, "INVALID_REQUEST")


SEVEN_MIB = 7 * 1024 * 1024


def test_body_between_6_and_10_mb_is_internal_error_as_json(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a 7 MiB body (API Gateway takes it, Lambda's 6 MB invoke limit does not), when
    posted to /api/data, then the answer is 500 INTERNAL_ERROR in the envelope, readable by a
    browser front end (docs/production.md), and the function never ran."""
    key = f"seven-mib-{uuid.uuid4().hex}"
    raw = json.dumps({"key": key, "value": "v" * SEVEN_MIB}).encode()

    response = http.post(
        f"{api_url}/api/data",
        data=raw,
        headers={"Content-Type": "application/json", **auth_headers(user.token)},
    )

    assert_error(response, 500, "INTERNAL_ERROR")
    assert response.headers["Access-Control-Allow-Origin"]
    missing = http.get(f"{api_url}/api/data/{key}", headers=auth_headers(user.token))
    assert_error(missing, 404, "KEY_NOT_FOUND")
