"""Email verification over HTTP, reading the local SES stand-in's mailbox: the mail of a
registration (both flavours), POST /api/email/verify, POST /api/email/verify/send and
email_verified in the account."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.e2e.helpers import (
    assert_code,
    assert_success,
    auth_headers,
    detail_fields,
    link_token,
    mails_to,
    new_user,
    next_mail,
    unique_email,
)


def verify(http: requests.Session, api_url: str, token: object) -> requests.Response:
    return http.post(f"{api_url}/api/email/verify", json={"token": token})


def account(http: requests.Session, api_url: str, token: str) -> dict[str, Any]:
    response = http.get(f"{api_url}/api/account", headers=auth_headers(token))
    data: dict[str, Any] = assert_success(response)["data"]
    return data


def test_registration_mails_a_link_that_verifies_once(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given a registration, its address gets a verification mail (text and HTML, a link
    to AppUrl's verify page); the link verifies the address once."""
    user = new_user(http, api_url)
    assert account(http, api_url, user.token)["email_verified"] is False

    mail = next_mail(mailbox_url, user.email, 0)
    assert mail["subject"] == "Verify your email address"
    assert "/verify-email?token=" in mail["body"]["html"]
    token = link_token(mail, "verify-email")

    assert_success(verify(http, api_url, token), "Email verified successfully.")
    assert account(http, api_url, user.token)["email_verified"] is True
    assert_code(verify(http, api_url, token), "INVALID_EMAIL_TOKEN")


def test_users_registration_mails_a_link_too(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    email = unique_email()
    body = {
        "fullname": {"firstname": "Mia", "lastname": "Mail"},
        "email": email,
        "password": "correct-horse-battery-staple-42",
    }
    assert http.post(f"{api_url}/users/register", json=body).status_code == 201

    mail = next_mail(mailbox_url, email, 0)

    assert "Hello Mia," in mail["body"]["text"]
    assert_success(verify(http, api_url, link_token(mail, "verify-email")))


def test_send_replaces_the_link_and_a_verified_address_gets_no_mail(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given the registration's link, verify/send mails a new one and the older stops
    working; once verified, verify/send answers the same and mails nothing."""
    user = new_user(http, api_url)
    older = link_token(next_mail(mailbox_url, user.email, 0), "verify-email")

    sent = http.post(f"{api_url}/api/email/verify/send", headers=user.headers)
    assert_success(sent, "Verification email sent.")
    newer = link_token(next_mail(mailbox_url, user.email, 1), "verify-email")

    assert_code(verify(http, api_url, older), "INVALID_EMAIL_TOKEN")
    assert_success(verify(http, api_url, newer))
    again = http.post(f"{api_url}/api/email/verify/send", headers=user.headers)
    assert_success(again, "Verification email sent.")
    time.sleep(3)  # longer than the sender takes to send a mail it was asked for
    assert len(mails_to(mailbox_url, user.email)) == 2


def test_bad_tokens(http: requests.Session, api_url: str) -> None:
    """A made-up link is INVALID_EMAIL_TOKEN; a missing or non-string one INVALID_REQUEST."""
    assert_code(verify(http, api_url, "nonsense"), "INVALID_EMAIL_TOKEN")
    missing = http.post(f"{api_url}/api/email/verify", json={})
    assert detail_fields(assert_code(missing, "INVALID_REQUEST")) == {"token"}
    assert_code(verify(http, api_url, 42), "INVALID_REQUEST")


def test_send_needs_a_token(http: requests.Session, api_url: str) -> None:
    assert_code(http.post(f"{api_url}/api/email/verify/send"), "INVALID_TOKEN")
