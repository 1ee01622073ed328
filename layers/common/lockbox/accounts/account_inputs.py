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


def check_step_up_code(value: object) -> str | None:
    # Optional: needed only while the account's second factor is on (checked by the call).
    return None if value is None else present_text(value, "Code", ErrorCode.INVALID_REQUEST)


@dataclass(frozen=True, slots=True)
class PasswordFields(PlainInput):
    current_password: str
    new_password: str
    code: str | None
    rules = (
        FieldRule("current_password", "current_password", check_current_password),
        FieldRule("new_password", "new_password", check_new_password),
        FieldRule("code", "code", check_step_up_code),
    )
    check_order = (ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PASSWORD)


@dataclass(frozen=True, slots=True)
class PasswordInput:
    caller: SessionCaller
    current_password: str
    new_password: str
    code: str | None = None  # the second factor's, when it is on


def password_input(event: ApiEvent) -> PasswordInput:
    """POST /api/password: the caller, the body is a JSON object, then both passwords."""
    caller = session_caller(event)
    fields = PasswordFields.from_body(json_body(event))
    return PasswordInput(caller, fields.current_password, fields.new_password, fields.code)


@dataclass(frozen=True, slots=True)
class DeleteFields(PlainInput):
    password: str
    rules = (FieldRule("password", "password", check_current_password),)
    check_order = (ErrorCode.INVALID_REQUEST,)


@dataclass(frozen=True, slots=True)
class StepUpDeleteFields(PlainInput):
    password: str
    code: str | None
    rules = (
        FieldRule("password", "password", check_current_password),
        FieldRule("code", "code", check_step_up_code),
    )
    check_order = (ErrorCode.INVALID_REQUEST,)


@dataclass(frozen=True, slots=True)
class DeleteAccountInput:
    caller: SessionCaller
    password: str
    code: str | None = None  # the second factor's, when it is on


def delete_account_input(event: ApiEvent) -> DeleteAccountInput:
    """DELETE /api/account: the caller, the body is a JSON object, then the password."""
    caller = session_caller(event)
    fields = StepUpDeleteFields.from_body(json_body(event))
    return DeleteAccountInput(caller, fields.password, fields.code)


def account_input(event: ApiEvent) -> str:
    """GET /api/account and GET /users/profile: only the caller."""
    return caller_id(event)
