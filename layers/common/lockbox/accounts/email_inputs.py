"""The email calls' inputs: POST /api/email/verify and POST /api/email/verify/send,
checked without pydantic."""

from __future__ import annotations

from dataclasses import dataclass

from lockbox.core.errors import ErrorCode
from lockbox.core.proxy import ApiEvent, caller_id, json_body, source_ip, user_agent
from lockbox.core.validation import FieldRule, PlainInput, present_text


def check_link_token(value: object) -> str:
    # Any string is a token to look up: a wrong one is INVALID_EMAIL_TOKEN.
    return present_text(value, "Token", ErrorCode.INVALID_REQUEST)


@dataclass(frozen=True, slots=True)
class LinkTokenFields(PlainInput):
    token: str
    rules = (FieldRule("token", "token", check_link_token),)
    check_order = (ErrorCode.INVALID_REQUEST,)


@dataclass(frozen=True, slots=True)
class VerifyEmailInput:
    token: str
    user_agent: str | None = None  # for the activity log
    source_ip: str | None = None


def verify_email_input(event: ApiEvent) -> VerifyEmailInput:
    """POST /api/email/verify: the body is a JSON object with a token."""
    token = LinkTokenFields.from_body(json_body(event)).token
    return VerifyEmailInput(token, user_agent(event), source_ip(event))


def send_verification_input(event: ApiEvent) -> str:
    """POST /api/email/verify/send: only the caller (a body, if any, is ignored)."""
    return caller_id(event)
