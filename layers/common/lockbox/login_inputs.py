"""The login call's input: POST /api/token's two fields, checked without pydantic."""

from __future__ import annotations

from dataclasses import dataclass

from lockbox.errors import ErrorCode
from lockbox.proxy import ApiEvent, json_body
from lockbox.validation import FieldRule, PlainInput, present_text


def check_login_text(value: object) -> str:
    # Any string is a credential to check: one no account can have fails as INVALID_CREDENTIALS.
    return present_text(value, "This field", ErrorCode.MISSING_FIELDS)


@dataclass(frozen=True, slots=True)
class TokenInput(PlainInput):
    username: str
    password: str
    rules = (
        FieldRule("username", "username", check_login_text),
        FieldRule("password", "password", check_login_text),
    )
    check_order = (ErrorCode.MISSING_FIELDS,)


def token_input(event: ApiEvent) -> TokenInput:
    """POST /api/token: the body is a JSON object, then both fields."""
    return TokenInput.from_body(json_body(event))
