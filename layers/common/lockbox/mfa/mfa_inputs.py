"""The second-factor calls' inputs (SPEC "Second factor (TOTP)"), checked without pydantic:
the caller (bearer calls), the body is a JSON object, then its fields, INVALID_REQUEST."""

from __future__ import annotations

from typing import NamedTuple

from lockbox.accounts.account_inputs import check_current_password
from lockbox.core.errors import ErrorCode
from lockbox.core.proxy import ApiEvent, json_body, origin
from lockbox.core.validation import FieldRule, PlainInput, present_text
from lockbox.sessions.session_inputs import SessionCaller, session_caller


def check_code(value: object) -> str:
    # Any string is a code to check: a wrong one is INVALID_MFA_CODE.
    return present_text(value, "Code", ErrorCode.INVALID_REQUEST)


def check_mfa_token(value: object) -> str:
    return present_text(value, "mfa_token", ErrorCode.INVALID_REQUEST)


class SetupInput(NamedTuple):
    caller: SessionCaller
    password: str


SETUP_BODY = PlainInput(
    SetupInput,
    rules=(FieldRule("password", "password", check_current_password),),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


class ConfirmInput(NamedTuple):
    caller: SessionCaller
    code: str


CONFIRM_BODY = PlainInput(
    ConfirmInput,
    rules=(FieldRule("code", "code", check_code),),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


class ProofInput(NamedTuple):
    """DELETE /api/mfa/totp and POST /api/mfa/recovery-codes: the password and a code."""

    caller: SessionCaller
    password: str
    code: str


PROOF_BODY = PlainInput(
    ProofInput,
    rules=(
        FieldRule("password", "password", check_current_password),
        FieldRule("code", "code", check_code),
    ),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


class TokenMfaInput(NamedTuple):
    mfa_token: str
    code: str
    user_agent: str | None = None  # the session's, from the header
    source_ip: str | None = None  # for the activity log


TOKEN_MFA_BODY = PlainInput(
    TokenMfaInput,
    rules=(
        FieldRule("mfa_token", "mfa_token", check_mfa_token),
        FieldRule("code", "code", check_code),
    ),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def setup_input(event: ApiEvent) -> SetupInput:
    """POST /api/mfa/totp/setup: the caller, the body is a JSON object, then the password."""
    caller = session_caller(event)
    return SETUP_BODY.from_body(json_body(event), caller=caller)


def confirm_input(event: ApiEvent) -> ConfirmInput:
    """POST /api/mfa/totp/confirm: the caller, the body is a JSON object, then the code."""
    caller = session_caller(event)
    return CONFIRM_BODY.from_body(json_body(event), caller=caller)


def proof_input(event: ApiEvent) -> ProofInput:
    """DELETE /api/mfa/totp and POST /api/mfa/recovery-codes: the caller, the body is a
    JSON object, then the password and the code."""
    caller = session_caller(event)
    return PROOF_BODY.from_body(json_body(event), caller=caller)


def token_mfa_input(event: ApiEvent) -> TokenMfaInput:
    """POST /api/token/mfa: the body is a JSON object, then the mfa_token and the code."""
    return TOKEN_MFA_BODY.from_body(json_body(event), **origin(event))
