"""The account calls' inputs: GET /api/account, POST /api/password, DELETE /api/account
(and the /users profile), checked without pydantic."""

from __future__ import annotations

from dataclasses import dataclass

from lockbox.accounts.passwords import new_password_rule
from lockbox.core.errors import ErrorCode
from lockbox.core.proxy import ApiEvent, caller_id, json_body
from lockbox.core.validation import (
    FieldRule,
    PlainInput,
    present_text,
)
from lockbox.sessions.session_inputs import SessionCaller, session_caller


def check_current_password(value: object) -> str:
    # Any string is a password to check: a wrong one is INVALID_CREDENTIALS.
    return present_text(value, "Password", ErrorCode.INVALID_REQUEST)


check_new_password = new_password_rule("New password")


@dataclass(frozen=True, slots=True)
class PasswordFields(PlainInput):
    current_password: str
    new_password: str
    rules = (
        FieldRule("current_password", "current_password", check_current_password),
        FieldRule("new_password", "new_password", check_new_password),
    )
    check_order = (ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PASSWORD)


@dataclass(frozen=True, slots=True)
class PasswordInput:
    caller: SessionCaller
    current_password: str
    new_password: str


def password_input(event: ApiEvent) -> PasswordInput:
    """POST /api/password: the caller, the body is a JSON object, then both passwords."""
    caller = session_caller(event)
    fields = PasswordFields.from_body(json_body(event))
    return PasswordInput(caller, fields.current_password, fields.new_password)


@dataclass(frozen=True, slots=True)
class DeleteFields(PlainInput):
    password: str
    rules = (FieldRule("password", "password", check_current_password),)
    check_order = (ErrorCode.INVALID_REQUEST,)


@dataclass(frozen=True, slots=True)
class DeleteAccountInput:
    caller: SessionCaller
    password: str


def delete_account_input(event: ApiEvent) -> DeleteAccountInput:
    """DELETE /api/account: the caller, the body is a JSON object, then the password."""
    caller = session_caller(event)
    return DeleteAccountInput(caller, DeleteFields.from_body(json_body(event)).password)


def account_input(event: ApiEvent) -> str:
    """GET /api/account and GET /users/profile: only the caller."""
    return caller_id(event)
