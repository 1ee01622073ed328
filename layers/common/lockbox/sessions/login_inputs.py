"""The login call's input: POST /api/token's two fields, checked without pydantic."""

from __future__ import annotations

from typing import NamedTuple

from lockbox.accounts.emails import email_reason
from lockbox.accounts.passwords import check_express_password_length
from lockbox.core.errors import ErrorCode
from lockbox.core.proxy import ApiEvent, json_body, origin
from lockbox.core.validation import (
    FieldRule,
    PlainInput,
    RuleViolation,
    is_valid_unicode,
    present_text,
)


def check_login_text(value: object) -> str:
    # Any string is a credential to check: one no account can have fails as INVALID_CREDENTIALS.
    return present_text(value, "This field", ErrorCode.MISSING_FIELDS)


def check_express_login_email(value: object) -> str:
    if not isinstance(value, str) or not is_valid_unicode(value) or email_reason(value):
        raise RuleViolation(ErrorCode.INVALID_REQUEST, "Invalid Email")
    return value


class TokenInput(NamedTuple):
    username: str
    password: str
    user_agent: str | None = None  # the session's, from the header
    source_ip: str | None = None  # for the activity log


TOKEN_BODY = PlainInput(
    TokenInput,
    rules=(
        FieldRule("username", "username", check_login_text),
        FieldRule("password", "password", check_login_text),
    ),
    check_order=(ErrorCode.MISSING_FIELDS,),
)


def token_input(event: ApiEvent) -> TokenInput:
    """POST /api/token: the body is a JSON object, then both fields."""
    return TOKEN_BODY.from_body(json_body(event), **origin(event))


class UsersLoginInput(NamedTuple):
    email: str
    password: str
    user_agent: str | None = None  # the session's, from the header
    source_ip: str | None = None  # for the activity log


USERS_LOGIN_BODY = PlainInput(
    UsersLoginInput,
    rules=(
        FieldRule("email", "email", check_express_login_email),
        # Any string of the minimum length is a credential to check.
        FieldRule("password", "password", check_express_password_length),
    ),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def users_login_input(event: ApiEvent) -> UsersLoginInput:
    """POST /users/login: the body is a JSON object, then the email and the password."""
    return USERS_LOGIN_BODY.from_body(json_body(event), **origin(event))
