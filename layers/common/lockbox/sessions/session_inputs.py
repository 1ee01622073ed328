"""The session calls' inputs: POST /api/token/refresh, POST /api/logout and the device
sessions' GET /api/sessions and DELETE /api/sessions/{session_id}."""

from __future__ import annotations

import re
from typing import NamedTuple

from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.proxy import (
    ApiEvent,
    caller_id,
    caller_session,
    has_body,
    json_body,
    origin,
    path_parameter,
)
from lockbox.core.validation import FieldRule, PlainInput, RuleViolation, present_text


def check_refresh_token(value: object) -> str:
    return present_text(value, "Refresh token", ErrorCode.INVALID_REQUEST)


class RefreshInput(NamedTuple):
    refresh_token: str
    user_agent: str | None = None  # for the activity log, from the request
    source_ip: str | None = None


REFRESH_BODY = PlainInput(
    RefreshInput,
    rules=(FieldRule("refresh_token", "refresh_token", check_refresh_token),),
    check_order=(ErrorCode.INVALID_REQUEST,),
)


def refresh_input(event: ApiEvent) -> RefreshInput:
    """POST /api/token/refresh: the body is a JSON object, then the refresh token."""
    return REFRESH_BODY.from_body(json_body(event), **origin(event))


class SessionCaller(NamedTuple):
    """A bearer call about the caller's own session: who, which session, and what the
    request tells of its origin (for the activity log)."""

    user_id: str
    session_id: str
    user_agent: str | None = None
    source_ip: str | None = None


class LogoutInput(NamedTuple):
    caller: SessionCaller
    everywhere: bool


def check_all(value: object) -> bool:
    if not isinstance(value, bool):  # null included: only a JSON boolean
        raise RuleViolation(ErrorCode.INVALID_REQUEST, "all must be true or false.")
    return value


def session_caller(event: ApiEvent) -> SessionCaller:
    """GET /users/profile and GET /users/logout: the caller and their session."""
    return SessionCaller(
        user_id=caller_id(event),
        session_id=caller_session(event),
        **origin(event),
    )


def logout_input(event: ApiEvent) -> LogoutInput:
    """POST /api/logout: the caller, then an optional JSON object body with `all`."""
    caller = session_caller(event)
    if not has_body(event):
        return LogoutInput(caller, everywhere=False)
    body = json_body(event)
    if "all" not in body:
        return LogoutInput(caller, everywhere=False)
    try:
        everywhere = check_all(body["all"])
    except RuleViolation as violation:
        raise ApiError(violation.code, [Detail("all", violation.reason)]) from None
    return LogoutInput(caller, everywhere=everywhere)


# A session id as start_session makes them (token_urlsafe(16)); nothing else names one.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")


class DeleteSessionInput(NamedTuple):
    caller: SessionCaller
    session_id: str


def delete_session_input(event: ApiEvent) -> DeleteSessionInput:
    """DELETE /api/sessions/{session_id}: the caller, then the session id; an id no session
    can have is SESSION_NOT_FOUND at once."""
    caller = session_caller(event)
    session_id = path_parameter(event, "session_id")
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise ApiError(ErrorCode.SESSION_NOT_FOUND)
    return DeleteSessionInput(caller, session_id)
