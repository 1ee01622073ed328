"""Security activity over HTTP (SPEC "Security activity"): the events of a user's logins,
failures and session ends, newest first, in pages with signed cursors."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.helpers import (
    assert_code,
    assert_success,
    auth_headers,
    new_user,
    request_token,
)

AGENT = "Lockbox-e2e/1.0 (activity)"


def activity(
    http: requests.Session, api_url: str, token: str, cursor: str | None = None
) -> dict[str, Any]:
    params = {} if cursor is None else {"cursor": cursor}
    response = http.get(
        f"{api_url}/api/account/activity", headers=auth_headers(token), params=params
    )
    data: dict[str, Any] = assert_success(response)["data"]
    return data


def test_logins_failures_and_ends_are_listed_newest_first(
    http: requests.Session, api_url: str
) -> None:
    """Given a wrong password, a login from a named device, a session ended from it and a
    logout, the log lists them newest first, with the device's User-Agent and an IP,
    never the password; the page is the last (no cursor)."""
    user = new_user(http, api_url)
    assert request_token(http, api_url, user.username, "wrong-password").status_code == 401
    login = http.post(
        f"{api_url}/api/token",
        json={"username": user.username, "password": user.password},
        headers={"User-Agent": AGENT},
    )
    assert login.status_code == 200, login.text
    device = login.json()["data"]["access_token"]
    assert request_token(http, api_url, user.username, user.password).status_code == 200
    listed = assert_success(http.get(f"{api_url}/api/sessions", headers=auth_headers(device)))
    other_id = next(
        s["session_id"]
        for s in listed["data"]["sessions"]
        if not s["current"] and s["user_agent"] != AGENT
    )
    ended = http.delete(
        f"{api_url}/api/sessions/{other_id}",
        headers={**auth_headers(device), "User-Agent": AGENT},
    )
    assert_success(ended, "Session ended.")

    page = activity(http, api_url, device)

    events = page["events"]
    names = [event["event"] for event in events]
    assert names[:4] == ["session_ended", "login", "login", "login_failed"]
    assert events[0]["session_id"] == other_id
    assert events[0]["user_agent"] == AGENT
    assert events[2]["user_agent"] == AGENT
    assert all(event["source_ip"] for event in events)
    assert page["cursor"] is None
    assert user.password not in str(page)


def test_a_cursor_not_given_by_the_api_is_invalid_parameter(
    http: requests.Session, api_url: str
) -> None:
    """Given a made-up cursor, 400 INVALID_PARAMETER."""
    user = new_user(http, api_url)
    response = http.get(
        f"{api_url}/api/account/activity",
        headers=auth_headers(user.token),
        params={"cursor": "made-up"},
    )

    assert_code(response, "INVALID_PARAMETER")
