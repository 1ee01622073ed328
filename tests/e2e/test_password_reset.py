"""Recovery over HTTP, reading the local SES stand-in's mailbox: POST /api/password/forgot
(the same answer and timing for any address, one mail a minute) and POST
/api/password/reset (a new session, every other one ended, the lockout cleared)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import requests

from tests.e2e.helpers import (
    Lockout,
    User,
    assert_code,
    assert_success,
    auth_headers,
    five_failures,
    link_token,
    mails_to,
    new_user,
    next_mail,
    request_token,
    unique_email,
    within_lockouts,
)

FORGOT_ANSWER = "If the address belongs to an account, a reset link has been sent."
NEW_PASSWORD = "another-horse-battery-staple-7"


def forgot(http: requests.Session, api_url: str, email: str) -> requests.Response:
    return http.post(f"{api_url}/api/password/forgot", json={"email": email})


def reset(
    http: requests.Session, api_url: str, token: str, password: str = NEW_PASSWORD
) -> requests.Response:
    return http.post(
        f"{api_url}/api/password/reset", json={"token": token, "new_password": password}
    )


def reset_token(http: requests.Session, api_url: str, mailbox_url: str, email: str) -> str:
    """Ask for a reset link and read it from the mailbox (after the registration's mail)."""
    already = len(mails_to(mailbox_url, email))
    assert_success(forgot(http, api_url, email), FORGOT_ANSWER)
    mail = next_mail(mailbox_url, email, already)
    assert mail["subject"] == "Reset your password"
    return link_token(mail, "reset-password")


def test_a_reset_answers_a_new_session_and_ends_the_others(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given a user with a live session, the mailed reset link sets a new password: the
    answer carries a new session's tokens, the old session and password stop working, the
    new password logs in, the address counts as verified, and the link works once."""
    user = new_user(http, api_url)
    next_mail(mailbox_url, user.email, 0)  # the registration's verification mail
    token = reset_token(http, api_url, mailbox_url, user.email)

    data: dict[str, Any] = assert_success(
        reset(http, api_url, token), "Password reset successfully."
    )["data"]

    assert {"access_token", "refresh_token", "expires_in", "token_type"} <= set(data)
    assert_code(http.get(f"{api_url}/api/account", headers=user.headers), "INVALID_TOKEN")
    account = http.get(f"{api_url}/api/account", headers=auth_headers(data["access_token"]))
    assert assert_success(account)["data"]["email_verified"] is True
    assert_code(request_token(http, api_url, user.username, user.password), "INVALID_CREDENTIALS")
    assert_success(request_token(http, api_url, user.email, NEW_PASSWORD))
    assert_code(reset(http, api_url, token), "INVALID_EMAIL_TOKEN")


def test_a_reset_clears_a_lockout(http: requests.Session, api_url: str, mailbox_url: str) -> None:
    def scenario(lockout: Lockout) -> tuple[User, requests.Response]:
        user = new_user(http, api_url)
        next_mail(mailbox_url, user.email, 0)
        five_failures(
            lambda: request_token(http, api_url, user.username, "a-stranger-guessing"), lockout
        )
        return user, request_token(http, api_url, user.username, user.password)

    user, locked = within_lockouts(scenario)
    assert locked.status_code == 429

    assert_success(reset(http, api_url, reset_token(http, api_url, mailbox_url, user.email)))

    assert_success(request_token(http, api_url, user.username, NEW_PASSWORD))


def test_a_refused_password_keeps_the_link_and_a_password_change_voids_it(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    user = new_user(http, api_url)
    next_mail(mailbox_url, user.email, 0)
    token = reset_token(http, api_url, mailbox_url, user.email)

    assert_code(reset(http, api_url, token, "short"), "INVALID_PASSWORD")
    change = {"current_password": user.password, "new_password": "changed-horse-battery-9"}
    assert_success(http.post(f"{api_url}/api/password", json=change, headers=user.headers))

    assert_code(reset(http, api_url, token), "INVALID_EMAIL_TOKEN")


def test_one_mail_a_minute_and_none_for_an_unknown_address(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given two requests at once for an account's address and one for an address no
    account has, the account gets one reset mail and the other address none."""
    user = new_user(http, api_url)
    next_mail(mailbox_url, user.email, 0)
    stranger = unique_email()

    for email in (user.email, user.email, stranger):
        assert_success(forgot(http, api_url, email), FORGOT_ANSWER)
    next_mail(mailbox_url, user.email, 1)
    time.sleep(3)  # longer than the sender takes for a mail it was asked for

    assert len(mails_to(mailbox_url, user.email)) == 2
    assert mails_to(mailbox_url, stranger) == []


def test_forgot_refuses_what_is_not_an_address(http: requests.Session, api_url: str) -> None:
    assert_code(forgot(http, api_url, "not-an-address"), "INVALID_REQUEST")
    assert_code(http.post(f"{api_url}/api/password/forgot", json={}), "INVALID_REQUEST")


def test_forgot_takes_the_same_time_for_known_and_unknown_addresses(
    http: requests.Session, api_url: str
) -> None:
    """Over 20 calls each, interleaved, the median latency for an account's address and for
    an address no account has are within 20% of each other, or within 25 ms."""
    user = new_user(http, api_url)
    unknown = unique_email()
    forgot(http, api_url, user.email)  # warm the function up
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(20):
        for name, email in (("known", user.email), ("unknown", unknown)):
            started = time.perf_counter()
            response = forgot(http, api_url, email)
            timings[name].append(time.perf_counter() - started)
            assert response.json()["message"] == FORGOT_ANSWER

    known, stranger = (statistics.median(timings[name]) for name in ("known", "unknown"))
    assert abs(known - stranger) <= max(0.2 * max(known, stranger), 0.025), timings
