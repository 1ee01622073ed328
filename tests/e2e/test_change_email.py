"""Address changes over HTTP (SPEC "Account details"), reading the local SES stand-in's
mailbox: POST /api/email, the confirm link at the new address, the notice at the old one."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.helpers import (
    User,
    assert_code,
    assert_error,
    assert_success,
    detail_fields,
    link_token,
    mails_to,
    new_user,
    next_mail,
    register,
    registration_body,
    request_token,
    unique_email,
)


def change(http: requests.Session, api_url: str, user: User, **body: Any) -> requests.Response:
    sent = {"password": user.password, **body}
    return http.post(f"{api_url}/api/email", json=sent, headers=user.headers)


def verify(http: requests.Session, api_url: str, token: str) -> requests.Response:
    return http.post(f"{api_url}/api/email/verify", json={"token": token})


def account(http: requests.Session, api_url: str, user: User) -> dict[str, Any]:
    data: dict[str, Any] = assert_success(http.get(f"{api_url}/api/account", headers=user.headers))[
        "data"
    ]
    return data


def requested_link(
    http: requests.Session, api_url: str, mailbox_url: str, user: User
) -> tuple[str, str]:
    """A change of the user's address to a fresh one: that address and its confirm link's token."""
    new_email = unique_email()
    assert_success(change(http, api_url, user, new_email=new_email))
    return new_email, link_token(next_mail(mailbox_url, new_email, 0), "verify-email")


def test_the_address_changes_only_when_the_new_address_confirms(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given a change request, the account keeps its address until the link mailed to the
    new address is used; then it has the new one, verified, and the new one logs in."""
    user = new_user(http, api_url)
    new_email = unique_email()

    assert_success(
        change(http, api_url, user, new_email=new_email), "Confirmation sent to the new address."
    )
    assert account(http, api_url, user)["email"] == user.email
    mail = next_mail(mailbox_url, new_email, 0)
    assert mail["subject"] == "Confirm your new email address"

    assert_success(
        verify(http, api_url, link_token(mail, "verify-email")), "Email verified successfully."
    )
    data = account(http, api_url, user)
    assert (data["email"], data["email_verified"]) == (new_email, True)
    assert request_token(http, api_url, new_email, user.password).status_code == 200
    assert_code(request_token(http, api_url, user.email, user.password), "INVALID_CREDENTIALS")


def test_the_old_address_is_told_and_free_at_once(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    user = new_user(http, api_url)
    assert_success(verify(http, api_url, requested_link(http, api_url, mailbox_url, user)[1]))

    notice = next_mail(mailbox_url, user.email, 1)  # after the registration's verify mail

    assert notice["subject"] == "Your email address was changed"
    assert "token=" not in notice["body"]["text"]
    reuse = registration_body(email=user.email)
    assert register(http, api_url, reuse).status_code == 200


def test_a_confirm_link_works_once(http: requests.Session, api_url: str, mailbox_url: str) -> None:
    user = new_user(http, api_url)
    _, token = requested_link(http, api_url, mailbox_url, user)
    assert_success(verify(http, api_url, token))

    assert_code(verify(http, api_url, token), "INVALID_EMAIL_TOKEN")


def test_a_taken_address_is_email_exists_at_request(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given another account's address (in other letter case), the request is 409 and no
    mail goes to it."""
    user, other = new_user(http, api_url), new_user(http, api_url)
    next_mail(mailbox_url, other.email, 0)  # its registration's, sent in the background
    mails_before = len(mails_to(mailbox_url, other.email))

    assert_error(change(http, api_url, user, new_email=other.email.upper()), 409, "EMAIL_EXISTS")
    assert len(mails_to(mailbox_url, other.email)) == mails_before


def test_an_address_taken_before_confirmation_is_email_exists_at_the_link(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    """Given a change request, then a registration of the new address by someone else,
    the link answers 409 EMAIL_EXISTS and the account keeps its address."""
    user = new_user(http, api_url)
    new_email, token = requested_link(http, api_url, mailbox_url, user)
    assert register(http, api_url, registration_body(email=new_email)).status_code == 200

    assert_error(verify(http, api_url, token), 409, "EMAIL_EXISTS")
    assert account(http, api_url, user)["email"] == user.email


def test_order_fields_then_password_then_address(http: requests.Session, api_url: str) -> None:
    """A bad address is 400 before the password is looked at; a wrong password is 401
    before a taken address is."""
    user, other = new_user(http, api_url), new_user(http, api_url)

    invalid = assert_error(
        change(http, api_url, user, password="wrong", new_email="not-an-address"),
        400,
        "INVALID_REQUEST",
    )
    assert detail_fields(invalid) == {"new_email"}
    assert_error(
        change(http, api_url, user, password="wrong", new_email=other.email),
        401,
        "INVALID_CREDENTIALS",
    )


def test_a_password_change_voids_the_confirm_link(
    http: requests.Session, api_url: str, mailbox_url: str
) -> None:
    user = new_user(http, api_url)
    _, token = requested_link(http, api_url, mailbox_url, user)
    changed = http.post(
        f"{api_url}/api/password",
        json={"current_password": user.password, "new_password": "a-whole-new-passphrase-7"},
        headers=user.headers,
    )
    assert_success(changed)

    assert_code(verify(http, api_url, token), "INVALID_EMAIL_TOKEN")


def test_without_a_token_the_call_is_refused(http: requests.Session, api_url: str) -> None:
    response = http.post(f"{api_url}/api/email", json={"password": "x", "new_email": "a@b.co"})

    assert_error(response, 401, "INVALID_TOKEN")
