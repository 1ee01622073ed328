"""PATCH /api/account over HTTP: the fields checked as at registration, the account
answered as GET /api/account, the new name on /users at once, the activity event."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    assert_error,
    assert_success,
    auth_headers,
    detail_fields,
    new_user,
    new_users_account,
)

pytestmark = pytest.mark.e2e

UPDATED = "Account updated successfully."


def patch_account(http: requests.Session, api_url: str, token: str, body: Any) -> requests.Response:
    return http.patch(f"{api_url}/api/account", json=body, headers=auth_headers(token))


def test_update_answers_the_account_as_get_reads_it(http: requests.Session, api_url: str) -> None:
    """Given a user, when it patches its full name and age, then 200 with the message and
    the account, which GET /api/account then answers too; the gender stays."""
    user = new_user(http, api_url, gender="female")

    response = patch_account(
        http, api_url, user.token, {"full_name": "Alice P. Liddell", "age": 31}
    )

    body = assert_success(response, UPDATED)
    assert (body["data"]["full_name"], body["data"]["age"], body["data"]["gender"]) == (
        "Alice P. Liddell",
        31,
        "female",
    )
    read = http.get(f"{api_url}/api/account", headers=user.headers)
    assert read.json()["data"] == body["data"]


def test_users_profile_and_login_read_the_new_name_at_once(
    http: requests.Session, api_url: str
) -> None:
    """Given a /users account, when its full_name is patched, then /users/profile and
    /users/login answer the new name at once."""
    signup, created = new_users_account(http, api_url, "cobol-forever-59")
    token = created["token"]

    assert_success(
        patch_account(http, api_url, token, {"full_name": "Amazing Grace Hopper"}), UPDATED
    )

    profile = http.get(f"{api_url}/users/profile", headers=auth_headers(token))
    login = http.post(
        f"{api_url}/users/login", json={"email": signup["email"], "password": signup["password"]}
    )
    expected = {"firstname": "Amazing", "lastname": "Grace Hopper"}
    assert profile.json()["fullname"] == expected
    assert login.json()["user"]["fullname"] == expected


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        pytest.param({}, "INVALID_REQUEST", {"body"}, id="none-sent"),
        pytest.param({"full_name": ""}, "INVALID_REQUEST", {"full_name"}, id="blank-name"),
        pytest.param({"age": 0, "gender": ""}, "INVALID_AGE", {"age", "gender"}, id="age-first"),
        pytest.param({"age": 30.5}, "INVALID_AGE", {"age"}, id="age-float"),
        pytest.param({"gender": "x" * 65}, "GENDER_REQUIRED", {"gender"}, id="gender-long"),
    ],
)
def test_fields_are_refused_as_at_registration(
    http: requests.Session, api_url: str, body: dict[str, Any], code: str, fields: set[str]
) -> None:
    """Given a body with none of the fields, or one refused at registration, then that
    code with details naming each field, and the account unchanged."""
    user = new_user(http, api_url, age=30)

    response = patch_account(http, api_url, user.token, body)

    error = assert_error(response, 400, code)
    assert detail_fields(error) == fields
    assert http.get(f"{api_url}/api/account", headers=user.headers).json()["data"]["age"] == 30


def test_update_is_recorded_in_the_activity_log(http: requests.Session, api_url: str) -> None:
    """Given a patch, then the caller's newest activity event is account_updated."""
    user = new_user(http, api_url)
    assert_success(patch_account(http, api_url, user.token, {"gender": "non-binary"}), UPDATED)

    events = http.get(f"{api_url}/api/account/activity", headers=user.headers).json()["data"][
        "events"
    ]

    assert events[0]["event"] == "account_updated"


def test_update_needs_a_token(http: requests.Session, api_url: str) -> None:
    """Given no token, then 401 INVALID_TOKEN."""
    response = http.patch(f"{api_url}/api/account", json={"age": 31})

    assert_error(response, 401, "INVALID_TOKEN")
