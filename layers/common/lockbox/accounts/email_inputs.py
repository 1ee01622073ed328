"""The email calls' inputs: POST /api/email, POST /api/email/verify,
POST /api/email/verify/send, POST /api/password/forgot and POST /api/password/reset,
checked without pydantic."""

from __future__ import annotations

from typing import NamedTuple

from lockbox.accounts.account_inputs import check_current_password
from lockbox.accounts.emails import check_email
from lockbox.accounts.passwords import new_password_rule
from lockbox.core.errors import ErrorCode
from lockbox.core.proxy import ApiEvent, caller_id, json_body, origin
from lockbox.core.validation import FieldRule, PlainInput, present_text
from lockbox.sessions.session_inputs import SessionCaller, session_caller


def check_link_token(value: object) -> str:
    # Any string is a token to look up: a wrong one is INVALID_EMAIL_TOKEN.
    return present_text(value, "Token", ErrorCode.INVALID_REQUEST)


class VerifyEmailInput(NamedTuple):
    token: str
    user_agent: str | None = None  # for the activity log
    source_ip: str | None = None


VERIFY_EMAIL_BODY = PlainInput(
    VerifyEmailInput,
    rules=(FieldRule("token", "token", check_link_token),),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def verify_email_input(event: ApiEvent) -> VerifyEmailInput:
    """POST /api/email/verify: the body is a JSON object with a token."""
    return VERIFY_EMAIL_BODY.from_body(json_body(event), **origin(event))


def send_verification_input(event: ApiEvent) -> str:
    """POST /api/email/verify/send: only the caller (a body, if any, is ignored)."""
    return caller_id(event)


class ForgotFields(NamedTuple):
    email: str


FORGOT_BODY = PlainInput(
    ForgotFields,
    rules=(FieldRule("email", "email", check_email),),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def forgot_password_input(event: ApiEvent) -> str:
    """POST /api/password/forgot: the body is a JSON object with a valid address."""
    return FORGOT_BODY.from_body(json_body(event)).email


class ResetPasswordInput(NamedTuple):
    token: str
    new_password: str
    user_agent: str | None = None  # the new session's, and the activity log's
    source_ip: str | None = None


RESET_PASSWORD_BODY = PlainInput(
    ResetPasswordInput,
    rules=(
        FieldRule("token", "token", check_link_token),
        FieldRule("new_password", "new_password", new_password_rule("New password")),
    ),
    check_order=(ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PASSWORD),
)


def reset_password_input(event: ApiEvent) -> ResetPasswordInput:
    """POST /api/password/reset: both fields present, then the new password's policy
    (a refused password leaves the link usable: it is checked before the link is read)."""
    return RESET_PASSWORD_BODY.from_body(json_body(event), **origin(event))


class ChangeEmailInput(NamedTuple):
    caller: SessionCaller
    password: str
    new_email: str


CHANGE_EMAIL_BODY = PlainInput(
    ChangeEmailInput,
    rules=(
        FieldRule("password", "password", check_current_password),
        FieldRule("new_email", "new_email", check_email),
    ),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def change_email_input(event: ApiEvent) -> ChangeEmailInput:
    """POST /api/email: the caller, the body is a JSON object, then both fields (the
    password is checked by the call, after them; SPEC "Account details")."""
    caller = session_caller(event)
    return CHANGE_EMAIL_BODY.from_body(json_body(event), caller=caller)
