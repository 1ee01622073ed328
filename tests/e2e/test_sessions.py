"""Sessions over HTTP: refresh rotation and reuse detection, parallel refreshes, logout of
one session and of all, and a never-used access token of an ended session refused at once
(SPEC.md, "Sessions")."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.e2e.helpers import (
    ERRORS,
    assert_code,
    auth_headers,
    log_in,
    new_user,
    new_users_account,
)

REFRESHED = "Access token refreshed successfully."
LOGGED_OUT = "Logged out successfully."
GRACE_SECONDS = 10


def refresh(http: requests.Session, api_url: str, refresh_token: object) -> requests.Response:
    return http.post(f"{api_url}/api/token/refresh", json={"refresh_token": refresh_token})


def account(http: requests.Session, api_url: str, access_token: str) -> requests.Response:
    return http.get(f"{api_url}/api/account", headers=auth_headers(access_token))


def test_login_answers_a_refresh_token(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)
    data = log_in(http, api_url, user.username, user.password)

    assert data["expires_in"] == 3600
    assert data["refresh_expires_in"] == 2592000
    assert len(data["refresh_token"]) >= 43


def test_rotation_and_reuse_inside_then_after_the_grace_window(
    http: requests.Session, api_url: str
) -> None:
    """A refresh rotates; the old token again within 10 s is refused and the session lives;
    after 10 s it ends the whole session (its current refresh and access tokens)."""
    user = new_user(http, api_url)
    first = log_in(http, api_url, user.username, user.password)

    rotated = refresh(http, api_url, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["message"] == REFRESHED
    second = rotated.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]

    assert_code(refresh(http, api_url, first["refresh_token"]), "INVALID_REFRESH_TOKEN")
    third_answer = refresh(http, api_url, second["refresh_token"])  # the session lives on
    assert third_answer.status_code == 200, third_answer.text
    third = third_answer.json()["data"]

    time.sleep(GRACE_SECONDS + 1)
    assert_code(refresh(http, api_url, second["refresh_token"]), "INVALID_REFRESH_TOKEN")
    assert_code(refresh(http, api_url, third["refresh_token"]), "INVALID_REFRESH_TOKEN")
    assert_code(account(http, api_url, third["access_token"]), "INVALID_TOKEN")


def test_ten_parallel_refreshes_with_one_token_have_exactly_one_winner(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)
    data = log_in(http, api_url, user.username, user.password)

    def one(_: int) -> int:
        with requests.Session() as session:
            return refresh(session, api_url, data["refresh_token"]).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(one, range(10)))

    assert statuses == [200] + [401] * 9


def test_refresh_refusals(http: requests.Session, api_url: str) -> None:
    assert_code(refresh(http, api_url, "not-a-refresh-token"), "INVALID_REFRESH_TOKEN")
    for body in ({}, {"refresh_token": ""}, {"refresh_token": 7}):
        response = http.post(f"{api_url}/api/token/refresh", json=body)
        assert_code(response, "INVALID_REQUEST")
        assert response.json()["details"][0]["field"] == "refresh_token"


def test_logout_ends_the_callers_session_only(http: requests.Session, api_url: str) -> None:
    """A never-used access token of the ended session is refused at once; another session
    of the same user goes on."""
    user = new_user(http, api_url)
    mine = log_in(http, api_url, user.username, user.password)
    other = log_in(http, api_url, user.username, user.password)
    unused = refresh(http, api_url, mine["refresh_token"]).json()["data"]

    response = http.post(f"{api_url}/api/logout", headers=auth_headers(mine["access_token"]))

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "message": LOGGED_OUT}
    assert_code(account(http, api_url, unused["access_token"]), "INVALID_TOKEN")
    assert_code(refresh(http, api_url, unused["refresh_token"]), "INVALID_REFRESH_TOKEN")
    assert account(http, api_url, other["access_token"]).status_code == 200
    assert refresh(http, api_url, other["refresh_token"]).status_code == 200


def test_logout_all_ends_every_session(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)
    sessions = [log_in(http, api_url, user.username, user.password) for _ in range(3)]

    response = http.post(
        f"{api_url}/api/logout",
        json={"all": True},
        headers=auth_headers(sessions[0]["access_token"]),
    )

    assert response.status_code == 200, response.text
    for data in sessions[1:]:  # never used: no cached decision
        assert_code(account(http, api_url, data["access_token"]), "INVALID_TOKEN")
    for data in sessions:
        assert_code(refresh(http, api_url, data["refresh_token"]), "INVALID_REFRESH_TOKEN")
    later = log_in(http, api_url, user.username, user.password)
    assert account(http, api_url, later["access_token"]).status_code == 200


def test_logout_needs_a_token(http: requests.Session, api_url: str) -> None:
    assert_code(http.post(f"{api_url}/api/logout"), "INVALID_TOKEN")


PASSWORD = "securePassword123"


def sign_up(http: requests.Session, api_url: str) -> dict[str, Any]:
    body, created = new_users_account(http, api_url, PASSWORD)
    return {**body, **created}


def users_login(
    http: requests.Session, api_url: str, email: object, password: object
) -> requests.Response:
    return http.post(f"{api_url}/users/login", json={"email": email, "password": password})


def assert_refused_token(response: requests.Response) -> None:
    """401 from API Gateway: the API-wide INVALID_TOKEN envelope (docs/api.md says why)."""
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "INVALID_TOKEN"
    assert response.json()["message"] == ERRORS["INVALID_TOKEN"][1]


def test_login_profile_logout(http: requests.Session, api_url: str) -> None:
    account = sign_up(http, api_url)

    login = users_login(http, api_url, account["email"].upper(), PASSWORD)
    assert login.status_code == 200, login.text
    token, user = login.json()["token"], login.json()["user"]
    assert user == account["user"]

    profile = http.get(f"{api_url}/users/profile", headers=auth_headers(token))
    assert profile.status_code == 200, profile.text
    assert profile.json() == account["user"]

    logout = http.get(f"{api_url}/users/logout", headers=auth_headers(token))
    assert logout.status_code == 200, logout.text
    assert logout.json() == {"message": "Logged out successfully"}

    # Refused at once, although both routes already saw this token.
    assert_refused_token(http.get(f"{api_url}/users/profile", headers=auth_headers(token)))
    assert_refused_token(http.get(f"{api_url}/users/logout", headers=auth_headers(token)))
    # The registration's own token belongs to another session, which goes on.
    assert http.get(f"{api_url}/users/profile", headers=auth_headers(account["token"])).ok


def test_an_api_account_logs_in_with_its_full_name_split(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url, full_name="Grace Brewster Hopper")

    response = users_login(http, api_url, user.email, user.password)

    assert response.status_code == 200, response.text
    assert response.json()["user"] == {
        "_id": user.user_id,
        "fullname": {"firstname": "Grace", "lastname": "Brewster Hopper"},
        "email": user.email,
        "socketId": None,
    }


def test_login_refusals(http: requests.Session, api_url: str) -> None:
    account = sign_up(http, api_url)

    wrong = users_login(http, api_url, account["email"], "wrong-password")
    invalid = users_login(http, api_url, "not-an-email", "12345")

    assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid email or password"})
    assert invalid.status_code == 400
    errors = invalid.json()["errors"]
    assert [(e["param"], e["msg"]) for e in errors] == [
        ("email", "Invalid Email"),
        ("password", "Password must be at least 6 characters long"),
    ]
    for item in errors:
        assert item["path"] == item["param"]
        assert item["type"] == "field"
        assert item["location"] == "body"
        assert "value" not in item


def test_profile_and_logout_need_a_token(http: requests.Session, api_url: str) -> None:
    assert_refused_token(http.get(f"{api_url}/users/profile"))
    assert_refused_token(http.get(f"{api_url}/users/logout", headers=auth_headers("a.b.c")))
