"""The /users calls a front end of the "fullname" family makes, each run with `fetch` in
Chromium from another origin: sign up, log in, read the profile, log out.
"""

from __future__ import annotations

from tests.browser.front_end import FrontEnd, users_registration_body

USER_FIELDS = {"_id", "fullname", "email", "socketId"}


def test_users_register_from_another_origin(front_end: FrontEnd) -> None:
    """Given the page on another origin, when it signs up with POST /users/register, then
    it reads 201 with a token and the user object (never a password)."""
    body = users_registration_body()

    answer = front_end.call("POST", "/users/register", body=body)

    created = front_end.expect(answer, 201)
    assert created["token"].count(".") == 2
    assert set(created["user"]) == USER_FIELDS
    assert created["user"]["email"] == body["email"]
    assert created["user"]["fullname"] == body["fullname"]


def test_users_login(front_end: FrontEnd) -> None:
    """Given an account from /users/register, when the page logs in with POST /users/login,
    then it reads 200 with a token and the same user."""
    account = front_end.users_register()

    answer = front_end.call(
        "POST",
        "/users/login",
        body={"email": account["user"]["email"], "password": account["password"]},
    )

    logged_in = front_end.expect(answer, 200)
    assert logged_in["token"].count(".") == 2
    assert logged_in["user"] == account["user"]


def test_users_profile(front_end: FrontEnd) -> None:
    """Given a token from /users/register, when the page calls GET /users/profile with it,
    then it reads 200 and the bare user object."""
    account = front_end.users_register()

    answer = front_end.call("GET", "/users/profile", token=account["token"])

    assert front_end.expect(answer, 200) == account["user"]


def test_users_logout(front_end: FrontEnd) -> None:
    """Given a token from /users/register, when the page calls GET /users/logout with it,
    then it reads 200 and the logout message."""
    account = front_end.users_register()

    answer = front_end.call("GET", "/users/logout", token=account["token"])

    assert front_end.expect(answer, 200) == {"message": "Logged out successfully"}


def test_token_refused_after_users_logout(front_end: FrontEnd) -> None:
    """Given a token whose session the page ended with GET /users/logout, when the page
    calls GET /users/profile with it, then it reads 401."""
    account = front_end.users_register()
    front_end.expect(front_end.call("GET", "/users/logout", token=account["token"]), 200)

    answer = front_end.call("GET", "/users/profile", token=account["token"])

    front_end.expect(answer, 401)
