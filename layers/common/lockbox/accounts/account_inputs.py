"""The account calls' inputs: GET /api/account, PATCH /api/account, POST /api/password,
DELETE /api/account (and the /users profile), checked without pydantic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from lockbox.accounts.passwords import new_password_rule
from lockbox.accounts.profile_rules import check_age, check_full_name, check_gender
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.proxy import ApiEvent, caller_id, json_body
from lockbox.core.validation import (
    ABSENT,
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


class PasswordInput(NamedTuple):
    caller: SessionCaller
    current_password: str
    new_password: str
    code: str | None = None  # the second factor's, when it is on


PASSWORD_BODY = PlainInput(
    PasswordInput,
    rules=(
        FieldRule("current_password", "current_password", check_current_password),
        FieldRule("new_password", "new_password", check_new_password),
        FieldRule("code", "code", check_step_up_code),
    ),
    check_order=(ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PASSWORD),
)


def password_input(event: ApiEvent) -> PasswordInput:
    """POST /api/password: the caller, the body is a JSON object, then both passwords."""
    caller = session_caller(event)
    return PASSWORD_BODY.from_body(json_body(event), caller=caller)


class DeleteAccountInput(NamedTuple):
    caller: SessionCaller
    password: str
    code: str | None = None  # the second factor's, when it is on


DELETE_ACCOUNT_BODY = PlainInput(
    DeleteAccountInput,
    rules=(
        FieldRule("password", "password", check_current_password),
        FieldRule("code", "code", check_step_up_code),
    ),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def delete_account_input(event: ApiEvent) -> DeleteAccountInput:
    """DELETE /api/account: the caller, the body is a JSON object, then the password."""
    caller = session_caller(event)
    return DELETE_ACCOUNT_BODY.from_body(json_body(event), caller=caller)


def account_input(event: ApiEvent) -> str:
    """GET /api/account and GET /users/profile: only the caller."""
    return caller_id(event)


def _when_sent(rule: Callable[[object], Any]) -> Callable[[object], Any]:
    """A registration rule for a field the update may leave out (null is sent, and refused)."""
    return lambda value: ABSENT if value is ABSENT else rule(value)


UPDATABLE_FIELDS = ("full_name", "age", "gender")


class UpdateFields(NamedTuple):
    full_name: Any
    age: Any
    gender: Any


UPDATE_ACCOUNT_BODY = PlainInput(
    UpdateFields,
    rules=(
        FieldRule("full_name", "full_name", _when_sent(check_full_name), absent=ABSENT),
        FieldRule("age", "age", _when_sent(check_age), absent=ABSENT),
        FieldRule("gender", "gender", _when_sent(check_gender), absent=ABSENT),
    ),
    # As at registration: the text fields' INVALID_REQUEST, then age, then gender.
    check_order=(ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_AGE, ErrorCode.GENDER_REQUIRED),
)


class UpdateAccountInput(NamedTuple):
    caller: SessionCaller
    changes: dict[str, str | int]  # the fields sent, checked: at least one


def update_account_input(event: ApiEvent) -> UpdateAccountInput:
    """PATCH /api/account: the caller, the body is a JSON object, then each field sent;
    none of them sent is INVALID_REQUEST."""
    caller = session_caller(event)
    fields = UPDATE_ACCOUNT_BODY.from_body(json_body(event))
    changes = {
        name: value for name in UPDATABLE_FIELDS if (value := getattr(fields, name)) is not ABSENT
    }
    if not changes:
        reason = "Provide at least one of full_name, age, gender."
        raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("body", reason)])
    return UpdateAccountInput(caller, changes)
