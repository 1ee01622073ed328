"""Device sessions over HTTP (SPEC "Sessions: devices and lifetimes"): the list of the
caller's live sessions, and ending one from another device, whose tokens are refused at once."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.helpers import assert_code, assert_success, auth_headers, new_user, unique_suffix

PHONE = "Lockbox-e2e/1.0 (phone)"
LAPTOP = "Lockbox-e2e/1.0 (laptop)"


def log_in_from(
    http: requests.Session, api_url: str, username: str, password: str, user_agent: str
) -> dict[str, Any]:
    response = http.post(
        f"{api_url}/api/token",
        json={"username": username, "password": password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def sessions(http: requests.Session, api_url: str, token: str) -> list[dict[str, Any]]:
    body = assert_success(http.get(f"{api_url}/api/sessions", headers=auth_headers(token)))
    listed: list[dict[str, Any]] = body["data"]["sessions"]
    return listed


def end(http: requests.Session, api_url: str, token: str, session_id: str) -> requests.Response:
    return http.delete(f"{api_url}/api/sessions/{session_id}", headers=auth_headers(token))


def test_sessions_are_listed_newest_first_with_their_devices(
    http: requests.Session, api_url: str
) -> None:
    """Given logins from a laptop then a phone, the phone's list shows the phone first
    (current) then the laptop, with their User-Agents; a refresh moves last_used_at."""
    user = new_user(http, api_url)
    laptop = log_in_from(http, api_url, user.username, user.password, LAPTOP)
    phone = log_in_from(http, api_url, user.username, user.password, PHONE)

    listed = sessions(http, api_url, phone["access_token"])

    assert [(s["user_agent"], s["current"]) for s in listed[:2]] == [
        (PHONE, True),
        (LAPTOP, False),
    ]
    assert len(listed) == 3  # and the login of new_user
    laptop_id = listed[1]["session_id"]
    refreshed = http.post(
        f"{api_url}/api/token/refresh", json={"refresh_token": laptop["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    again = {s["session_id"]: s for s in sessions(http, api_url, phone["access_token"])}
    assert again[laptop_id]["last_used_at"] > listed[1]["last_used_at"]
    assert again[laptop_id]["created_at"] == listed[1]["created_at"]


def test_a_session_ended_from_another_device_is_refused_at_once(
    http: requests.Session, api_url: str
) -> None:
    """Given the phone's session ended from the laptop, 200 "Session ended."; the phone's
    access token (used before) is refused at once on /users/profile, its refresh token
    at once, it leaves the list, and ending it again is SESSION_NOT_FOUND."""
    user = new_user(http, api_url)
    laptop = log_in_from(http, api_url, user.username, user.password, LAPTOP)
    phone = log_in_from(http, api_url, user.username, user.password, PHONE)
    profile = f"{api_url}/users/profile"
    assert http.get(profile, headers=auth_headers(phone["access_token"])).ok
    phone_id = next(s for s in sessions(http, api_url, phone["access_token"]) if s["current"])[
        "session_id"
    ]

    assert_success(end(http, api_url, laptop["access_token"], phone_id), "Session ended.")

    assert http.get(profile, headers=auth_headers(phone["access_token"])).status_code == 401
    refused = http.post(
        f"{api_url}/api/token/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert_code(refused, "INVALID_REFRESH_TOKEN")
    listed = [s["session_id"] for s in sessions(http, api_url, laptop["access_token"])]
    assert phone_id not in listed
    assert_code(end(http, api_url, laptop["access_token"], phone_id), "SESSION_NOT_FOUND")


def test_another_users_or_an_unknown_session_is_not_found(
    http: requests.Session, api_url: str
) -> None:
    """Given another user's live session id, an unknown id and a malformed one: each is
    404 SESSION_NOT_FOUND, and the other user's session lives on."""
    owner = new_user(http, api_url)
    stranger = new_user(http, api_url)
    owned = sessions(http, api_url, owner.token)[0]["session_id"]

    assert_code(end(http, api_url, stranger.token, owned), "SESSION_NOT_FOUND")
    assert_code(end(http, api_url, stranger.token, "A" * 22), "SESSION_NOT_FOUND")
    assert_code(end(http, api_url, stranger.token, unique_suffix(8)), "SESSION_NOT_FOUND")
    assert http.get(f"{api_url}/users/profile", headers=auth_headers(owner.token)).ok
