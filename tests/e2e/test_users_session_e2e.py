"""The /users front ends' login, profile and logout over HTTP (SPEC.md, "The /users
flavour")."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.helpers import ERRORS, auth_headers, new_user, unique_email

PASSWORD = "securePassword123"


def sign_up(http: requests.Session, api_url: str) -> dict[str, Any]:
    body = {
        "fullname": {"firstname": "Ada", "lastname": "Lovelace"},
        "email": unique_email(),
        "password": PASSWORD,
    }
    response = http.post(f"{api_url}/users/register", json=body)
    assert response.status_code == 201, response.text
    return {**body, **response.json()}


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
