"""One mailbox, one account: both registration calls and the token call use the canonical
form of an email address (SPEC.md, "POST /api/register")."""

from __future__ import annotations

from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from tests.handlers.calls import USER, error, register, token, with_body

SPELLINGS = {
    "full-width": ("m@example.com", "m@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"),
    "ideographic-full-stop": ("m@example.com", "m@example\u3002com"),
    "upper-case": ("m@example.com", "M@EXAMPLE.COM"),
    "idna": ("m@b\u00fccher.de", "m@xn--bcher-kva.de"),
    "nfd": ("m@b\u00fccher.de", "m@bu\u0308cher.de"),
    "case-fold": ("stra\u00dfe@example.com", "STRASSE@example.com"),
}


@pytest.mark.parametrize(("first", "second"), SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_second_spelling_of_a_registered_mailbox_is_email_exists(
    aws_tables: Any, lambda_context: Any, first: str, second: str
) -> None:
    """Given an account for one spelling, registering another spelling is EMAIL_EXISTS."""
    assert register(lambda_context, email=first)[0] == 200

    assert register(lambda_context, username="other", email=second) == error(ErrorCode.EMAIL_EXISTS)


@pytest.mark.parametrize(("first", "second"), SPELLINGS.values(), ids=SPELLINGS.keys())
def test_any_spelling_of_the_mailbox_logs_in(
    aws_tables: Any, lambda_context: Any, first: str, second: str
) -> None:
    """Given an account for one spelling, a login with another spelling gets a token."""
    register(lambda_context, email=first)

    status, body = token(lambda_context, second, USER["password"])

    assert status == 200
    assert body["data"]["token_type"] == "Bearer"


def test_the_address_is_returned_as_the_client_sent_it(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given an address with upper case and a Unicode domain, the answer repeats it as sent."""
    status, body = register(lambda_context, email="M@B\u00fccher.de")

    assert status == 200
    assert body["data"]["email"] == "M@B\u00fccher.de"


def test_users_register_shares_the_canonical_form(aws_tables: Any, lambda_context: Any) -> None:
    """Given an /api account, /users/register with another spelling is 400 'Email is already
    registered'."""
    from functions.users_register.app import lambda_handler as users_register

    register(lambda_context, email="m@example.com")
    body = {
        "fullname": {"firstname": "Mary", "lastname": "Major"},
        "email": "M@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        "password": "a-long-password",
    }
    response = users_register(with_body("users_register_success", body), lambda_context)

    assert response["statusCode"] == 400
    assert "Email is already registered" in response["body"]


# --- strictness of text fields (SPEC.md: control characters, 64 characters before @) ----


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "John\x00Doe"),
        ("full_name", "John\x1bDoe"),
        ("gender", "male\x00"),
        ("gender", "\x07female"),
        ("password", "secure_password123\x00extra"),
        ("email", "x" * 65 + "@example.com"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_control_characters_and_long_local_parts_are_invalid_request(
    lambda_context: Any, field: str, value: str
) -> None:
    """Given a control character in a text field, or 65 characters before @, the answer is
    INVALID_REQUEST naming that field, and nothing is written."""
    status, body = register(lambda_context, **{field: value})

    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert field in {detail["field"] for detail in body["details"]}


def test_a_password_with_a_nul_never_matches(aws_tables: Any, lambda_context: Any) -> None:
    """Given an account, its password followed by NUL and more is wrong (bcrypt stops at NUL)."""
    register(lambda_context)

    result = token(lambda_context, USER["username"], USER["password"] + "\x00anything")

    assert result == error(ErrorCode.INVALID_CREDENTIALS)
