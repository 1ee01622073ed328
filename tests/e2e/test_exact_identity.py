"""Over HTTP: one mailbox is one account whatever its spelling, text fields refuse control
characters, and tokens are accepted only in the form they were issued (SPEC.md)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    DEFAULT_PASSWORD,
    assert_error,
    assert_success,
    auth_headers,
    detail_fields,
    new_user,
    register,
    registration_body,
    request_token,
    unique_suffix,
)

pytestmark = pytest.mark.e2e


def spellings(local: str) -> dict[str, tuple[str, str]]:
    """Pairs of spellings of one fresh mailbox (registered first, tried second)."""
    return {
        "full-width-domain": (
            f"{local}@example.com",
            f"{local}@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        ),
        "ideographic-full-stop": (f"{local}@example.com", f"{local}@example\u3002com"),
        "idna-domain": (f"{local}@b\u00fccher.de", f"{local}@xn--bcher-kva.de"),
        "nfd-domain": (f"{local}@b\u00fccher.de", f"{local}@bu\u0308cher.de"),
        "case-folded-local-part": (
            f"stra\u00dfe{local}@example.com",
            f"STRASSE{local.upper()}@example.com",
        ),
    }


SPELLING_NAMES = list(spellings("x"))


def mailbox(name: str) -> tuple[str, str]:
    return spellings(f"m{unique_suffix(12)}")[name]


@pytest.mark.parametrize("name", SPELLING_NAMES)
def test_another_spelling_of_a_registered_mailbox_is_email_exists(
    http: requests.Session, api_url: str, name: str
) -> None:
    """Given an account, when another spelling of its mailbox registers, then 409 EMAIL_EXISTS."""
    first, second = mailbox(name)
    assert register(http, api_url, registration_body(email=first)).status_code == 200

    response = register(http, api_url, registration_body(email=second))

    assert_error(response, 409, "EMAIL_EXISTS")


@pytest.mark.parametrize("name", SPELLING_NAMES)
def test_another_spelling_of_the_mailbox_logs_in(
    http: requests.Session, api_url: str, name: str
) -> None:
    """Given an account, when it logs in with another spelling of its email, then a token."""
    first, second = mailbox(name)
    assert register(http, api_url, registration_body(email=first)).status_code == 200

    response = request_token(http, api_url, second, DEFAULT_PASSWORD)

    assert_success(response, "Access token generated successfully.")


def test_users_register_refuses_another_spelling(http: requests.Session, api_url: str) -> None:
    """Given an /api account, when /users/register uses another spelling, then it is refused."""
    first, second = mailbox("full-width-domain")
    assert register(http, api_url, registration_body(email=first)).status_code == 200
    body = {"fullname": {"firstname": "Mary"}, "email": second, "password": "a-long-password"}

    response = http.post(f"{api_url}/users/register", json=body)

    assert response.status_code == 400
    assert {"msg": "Email is already registered", "param": "email"}.items() <= response.json()[
        "errors"
    ][0].items()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Ada\x00Lovelace"),
        ("gender", "female\x00"),
        ("gender", "\x1b[31mred"),
        ("password", DEFAULT_PASSWORD + "\x00"),
        ("email", "x" * 65 + "@example.com"),
    ],
    ids=[
        "nul-in-full-name",
        "nul-in-gender",
        "escape-in-gender",
        "nul-in-password",
        "local-part-65",
    ],
)
def test_control_characters_and_long_local_parts_are_invalid_request(
    http: requests.Session, api_url: str, field: str, value: Any
) -> None:
    """Given a control character in a text field or 65 characters before @, when registering,
    then 400 INVALID_REQUEST naming the field."""
    response = register(http, api_url, registration_body(**{field: value}))

    assert field in detail_fields(assert_error(response, 400, "INVALID_REQUEST"))


def test_a_token_with_a_padded_signature_is_invalid_token(
    http: requests.Session, api_url: str
) -> None:
    """Given a valid token with base64 padding after its signature, the data call is 401."""
    user = new_user(http, api_url)

    response = http.get(f"{api_url}/api/data/anything", headers=auth_headers(user.token + "="))

    assert_error(response, 401, "INVALID_TOKEN")
