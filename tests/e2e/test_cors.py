"""Browsers (CORS), SPEC.md: every response, from a function or made by the gateway
itself, carries Access-Control-Allow-Origin and Access-Control-Expose-Headers: ETag,
Retry-After; a preflight OPTIONS on any route answers 204 with the route's methods, at
least Authorization, Content-Type and If-Match as allowed headers, a max age of at least
600 seconds, no body, and without running the authorizer.

The routes come from docs/openapi.yaml. Preflights are sent with a plain requests call:
the document lists no OPTIONS operations, so the suite's contract check (which covers
the API's documented answers) does not apply to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.helpers import assert_error, auth_headers, new_user, unique_key

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head")
REQUIRED_ALLOW_HEADERS = {"authorization", "content-type", "if-match"}
MIN_MAX_AGE_SECONDS = 600
FRONT_END_ORIGIN = "https://app.example.com"
TIMEOUT_SECONDS = 30.0

pytestmark = pytest.mark.e2e


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
