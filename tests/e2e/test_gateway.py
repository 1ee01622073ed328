"""Responses API Gateway makes itself: unknown routes and methods are 404 NOT_FOUND and a
body over 10 MB is 400 INVALID_REQUEST, each with the contract's JSON envelope, never
HTML or a bare {"message": ...}."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.helpers import (
    User,
    assert_error,
    auth_headers,
    new_user,
    registration_body,
    unique_key,
)

pytestmark = pytest.mark.e2e

TEN_MIB = 10 * 1024 * 1024


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
    ("POST", "/api/data/x"),
    ("GET", "/api/data/x/increment"),
    ("PATCH", "/api/data/x/increment"),
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


@pytest.mark.parametrize("path", ["/api/data", "/api/data/x/increment"])
def test_unknown_method_without_a_token_is_not_found_not_unauthorized(
    http: requests.Session, api_url: str, path: str
) -> None:
    """Given a data path and PATCH, which no route of it defines, when it is called without a
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


DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head")
REQUIRED_ALLOW_HEADERS = {"authorization", "content-type", "if-match"}
MIN_MAX_AGE_SECONDS = 600
FRONT_END_ORIGIN = "https://app.example.com"
TIMEOUT_SECONDS = 30.0


def _documented_routes() -> list[tuple[str, list[str]]]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return [
        (path, sorted(method.upper() for method in operations if method in HTTP_METHODS))
        for path, operations in document["paths"].items()
    ]


ROUTES = _documented_routes()


def _concrete(path: str) -> str:
    """A request path for a documented one: each {parameter} filled in (encoded once)."""
    parts = [("a%20key" if part.startswith("{") else part) for part in path.split("/")]
    return "/".join(parts)


def _listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def assert_cors_headers(response: requests.Response) -> None:
    """Allow-Origin present (the deployment's AllowedOrigin, `*` by default) and the
    contract's Expose-Headers."""
    origin = response.headers.get("Access-Control-Allow-Origin")
    assert origin, f"{response.status_code}: no Access-Control-Allow-Origin in {response.headers}"
    assert _listed(response.headers.get("Access-Control-Expose-Headers")) >= {
        "etag",
        "retry-after",
    }, response.headers


def preflight(api_url: str, path: str, method: str, **headers: str) -> requests.Response:
    return requests.options(
        f"{api_url}{_concrete(path)}",
        headers={
            "Origin": FRONT_END_ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,if-match",
            **headers,
        },
        timeout=TIMEOUT_SECONDS,
    )


@pytest.mark.parametrize(("path", "methods"), ROUTES, ids=[path for path, _ in ROUTES])
def test_preflight_on_every_route_answers_204_with_the_cors_headers(
    api_url: str, path: str, methods: list[str]
) -> None:
    """Given a documented route, when a browser sends its preflight, then 204 with no
    body, the route's methods, the required headers and a max age of at least 600 s."""
    response = preflight(api_url, path, methods[0])

    assert response.status_code == 204, response.text[:500]
    assert response.content == b""
    assert_cors_headers(response)
    allowed_methods = {
        m.upper() for m in _listed(response.headers.get("Access-Control-Allow-Methods"))
    }
    assert set(methods) <= allowed_methods, response.headers
    assert _listed(response.headers.get("Access-Control-Allow-Headers")) >= REQUIRED_ALLOW_HEADERS
    assert int(response.headers["Access-Control-Max-Age"]) >= MIN_MAX_AGE_SECONDS


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-real-token", "Basic dXNlcjpwYXNz"],
    ids=["no-token", "invalid-token", "wrong-scheme"],
)
@pytest.mark.parametrize("path", ["/api/data", "/api/data/{key}"])
def test_preflight_never_runs_the_authorizer(
    api_url: str, path: str, authorization: str | None
) -> None:
    """Given a protected route and a preflight without a valid token (browsers send none),
    then it still answers 204: the authorizer, which would answer 401, never ran."""
    headers = {} if authorization is None else {"Authorization": authorization}

    response = preflight(api_url, path, "POST" if path == "/api/data" else "GET", **headers)

    assert response.status_code == 204, response.text[:500]
    assert_cors_headers(response)


def test_function_answers_carry_cors_headers(http: requests.Session, api_url: str) -> None:
    """Given a function's success and its 4xx envelopes, then each carries the headers."""
    user = new_user(http, api_url)
    key = unique_key()
    headers = {"Origin": FRONT_END_ORIGIN, **auth_headers(user.token)}

    stored = http.post(f"{api_url}/api/data", json={"key": key, "value": 1}, headers=headers)
    missing = http.get(f"{api_url}/api/data/{unique_key()}", headers=headers)
    invalid = http.post(f"{api_url}/api/token", json={}, headers={"Origin": FRONT_END_ORIGIN})

    assert stored.status_code == 200, stored.text
    assert_cors_headers(stored)
    assert_error(missing, 404, "KEY_NOT_FOUND")
    assert_cors_headers(missing)
    assert_error(invalid, 400, "MISSING_FIELDS")
    assert_cors_headers(invalid)
    http.delete(f"{api_url}/api/data/{key}", headers=headers)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-real-token"],
    ids=["missing-token", "rejected-token"],
)
def test_gateway_401_carries_cors_headers(
    http: requests.Session, api_url: str, authorization: str | None
) -> None:
    """Given a protected call without a valid token, then the gateway's 401 envelope
    carries the headers (a browser could not read it otherwise)."""
    headers = {"Origin": FRONT_END_ORIGIN}
    if authorization:
        headers["Authorization"] = authorization

    response = http.get(f"{api_url}/api/data/{unique_key()}", headers=headers)

    assert_error(response, 401, "INVALID_TOKEN")
    assert_cors_headers(response)


def test_gateway_404_carries_cors_headers(http: requests.Session, api_url: str) -> None:
    """Given an unknown route or method, then the gateway's 404 envelope carries them."""
    unknown_route = http.get(f"{api_url}/no/such/route", headers={"Origin": FRONT_END_ORIGIN})
    unknown_method = http.patch(f"{api_url}/api/token", headers={"Origin": FRONT_END_ORIGIN})

    for response in (unknown_route, unknown_method):
        assert_error(response, 404, "NOT_FOUND")
        assert_cors_headers(response)


def test_preflight_on_an_unknown_route_is_the_404_envelope(api_url: str) -> None:
    """Given OPTIONS on a path that is no route, then the 404 envelope, with CORS."""
    response = requests.options(
        f"{api_url}/no/such/route", headers={"Origin": FRONT_END_ORIGIN}, timeout=TIMEOUT_SECONDS
    )

    assert_error(response, 404, "NOT_FOUND")
    assert_cors_headers(response)
