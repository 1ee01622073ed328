"""The /api calls a front end on another origin makes, each run with `fetch` in Chromium.

Every answer here must be readable by the page's JavaScript: without CORS headers on the
response the browser withholds it, and the test fails saying so. A test written before
its feature is built is a strict xfail naming the feature, until the feature lands.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from tests.browser.front_end import PASSWORD, FrontEnd, registration_body, unique

STRONG_ETAG = re.compile(r'^"[^"]+"$')


def test_register_from_another_origin(front_end: FrontEnd) -> None:
    """Given the page on another origin, when it registers with POST /api/register, then it
    reads 200 and the success envelope with the new account."""
    body = registration_body()

    answer = front_end.call("POST", "/api/register", body=body)

    envelope = front_end.expect(answer, 200)
    assert envelope["status"] == "success"
    assert envelope["message"] == "User successfully registered!"
    assert envelope["data"]["username"] == body["username"]
    assert envelope["data"]["user_id"]


def test_token_from_another_origin(front_end: FrontEnd) -> None:
    """Given an account, when the page logs in with POST /api/token, then it reads a
    Bearer access token valid for 3600 seconds."""
    account = front_end.register()

    answer = front_end.call(
        "POST", "/api/token", body={"username": account["username"], "password": PASSWORD}
    )

    envelope = front_end.expect(answer, 200)
    assert envelope["message"] == "Access token generated successfully."
    assert envelope["data"]["token_type"] == "Bearer"
    assert envelope["data"]["expires_in"] == 3600
    assert envelope["data"]["access_token"].count(".") == 2


def test_store_with_bearer_token(front_end: FrontEnd) -> None:
    """Given a token, when the page stores a key with POST /api/data (Authorization and a
    JSON body: the browser sends a preflight first), then it reads 200."""
    token = front_end.registered_token()

    answer = front_end.call(
        "POST", "/api/data", body={"key": unique("key"), "value": {"n": 1}}, token=token
    )

    envelope = front_end.expect(answer, 200)
    assert envelope["status"] == "success"
    assert envelope["message"] == "Data stored successfully."


def test_read_a_key(front_end: FrontEnd) -> None:
    """Given a stored key with spaces and non-ASCII in its name, when the page reads it with
    GET /api/data/{key} (percent-encoded), then it reads the key and the value as stored."""
    token = front_end.registered_token()
    key = f"{unique('notes')} été"
    front_end.store(token, key, ["a", 1, True])

    answer = front_end.call("GET", f"/api/data/{quote(key, safe='')}", token=token)

    envelope = front_end.expect(answer, 200)
    assert envelope["data"] == {"key": key, "value": ["a", 1, True], "metadata": None}


def test_read_the_etag_header(front_end: FrontEnd) -> None:
    """Given a stored key, when the page reads it, then the page can read its ETag
    header (exposed by Access-Control-Expose-Headers): a strong, quoted entity tag."""
    token = front_end.registered_token()
    key = unique("versioned")
    front_end.store(token, key, "v1")

    answer = front_end.call("GET", f"/api/data/{key}", token=token)

    front_end.expect(answer, 200)
    etag = answer.headers.get("etag", "")
    assert STRONG_ETAG.match(etag), f"no strong ETag the page can read: {answer.headers}"


def test_list_keys(front_end: FrontEnd) -> None:
    """Given two stored keys under one prefix, when the page lists them with
    GET /api/data?prefix=..., then it reads both keys, in order, and a null cursor."""
    token = front_end.registered_token()
    prefix = unique("list")
    for suffix in ("b", "a"):
        front_end.store(token, f"{prefix}-{suffix}", suffix)

    answer = front_end.call("GET", f"/api/data?prefix={prefix}&limit=10", token=token)

    data = front_end.expect(answer, 200)["data"]
    assert [entry["key"] for entry in data["keys"]] == [f"{prefix}-a", f"{prefix}-b"]
    assert data["cursor"] is None


def test_error_body_without_token_is_readable(front_end: FrontEnd) -> None:
    """Given no token, when the page calls GET /api/data/{key}, then it reads 401 and the
    contract's envelope (API Gateway's own answer carries the CORS headers too)."""
    answer = front_end.call("GET", f"/api/data/{unique('key')}")

    envelope = front_end.expect(answer, 401)
    assert envelope["status"] == "error"
    assert envelope["code"] == "INVALID_TOKEN"
    assert envelope["message"] == "Invalid access token provided."


def test_refresh_the_access_token(front_end: FrontEnd) -> None:
    """Given a login's refresh token, when the page calls POST /api/token/refresh, then it
    reads a new access token and a new refresh token."""
    login = front_end.log_in(front_end.register()["username"])
    assert "refresh_token" in login, f"POST /api/token gave no refresh token: {login}"

    answer = front_end.call(
        "POST", "/api/token/refresh", body={"refresh_token": login["refresh_token"]}
    )

    envelope = front_end.expect(answer, 200)
    assert envelope["message"] == "Access token refreshed successfully."
    assert envelope["data"]["token_type"] == "Bearer"
    assert envelope["data"]["access_token"] != login["access_token"]
    assert envelope["data"]["refresh_token"] != login["refresh_token"]
