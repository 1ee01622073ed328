"""Business logic of the session calls, POST /api/token/refresh and POST /api/logout, the
device sessions' GET /api/sessions and DELETE /api/sessions/{session_id}, and the tokens
every session start hands out.

A refresh token is `<user_id>.<created_at>.<session_id>.<generation>.<chain>.<secret>`:
the first three name the session (so a refresh is one conditional write, without a read
first); the generation counts the session's rotations; the chain secret is the same in
every token of the session and the secret is new in each, both 256 random bits stored
only as their SHA-256 (lockbox.sessions.session_records). A token of the format before
chains, `<user_id>.<created_at>.<session_id>.<secret>`, is still refreshed once, into the
new format.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.activity.activity_calls import iso_time
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success
from lockbox.sessions import session_records
from lockbox.sessions.session_inputs import (
    DeleteSessionInput,
    LogoutInput,
    RefreshInput,
    SessionCaller,
)
from lockbox.signing.lifetimes import TOKEN_LIFETIME_SECONDS

_SECRET_BYTES = 32  # 256 random bits
_REFRESH_TOKEN = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.([0-9]{1,20})\.([A-Za-z0-9_-]{22})"
    r"(?:\.([0-9]{1,9})\.([A-Za-z0-9_-]{43}))?\.([A-Za-z0-9_-]{43})"
)


class StartedSession(NamedTuple):
    """A session about to be written, with the secret only its client will ever see."""

    record: session_records.NewSession
    secret: str | None
    chain: str | None = None  # the session's chain secret, in each of its refresh tokens
    generation: int = 0

    @property
    def refresh_token(self) -> str:
        assert self.secret is not None, "a /users session has no refresh token"
        assert self.chain is not None
        record = self.record
        return (
            f"{record.user_id}.{record.created_at}.{record.session_id}"
            f".{self.generation}.{self.chain}.{self.secret}"
        )


def start_session(
    user_id: str, *, refreshable: bool = True, user_agent: str | None = None
) -> StartedSession:
    """A new session of the user: an id, and for /api logins a refresh token secret and
    the session's chain secret."""
    secret = secrets.token_urlsafe(_SECRET_BYTES) if refreshable else None
    chain = secrets.token_urlsafe(_SECRET_BYTES) if refreshable else None
    record = session_records.NewSession(
        session_id=secrets.token_urlsafe(16),
        user_id=user_id,
        created_at=session_records.now_microseconds(),
        refresh_hash=session_records.refresh_hash(secret) if secret else None,
        chain_hash=session_records.refresh_hash(chain) if chain else None,
        user_agent=user_agent,
    )
    return StartedSession(record, secret, chain)


def session_tokens(session: StartedSession) -> dict[str, Any]:
    """The data of a successful /api/token or /api/token/refresh; `refresh_expires_in`
    never reaches past the session's end."""
    # Imported here: the session calls that sign nothing (logout, the device list, a
    # session's end) start without the token signing and its key reading.
    from lockbox.signing.tokens import issue_access_token

    refresh_expires_in = session_records.refresh_seconds(session.record.created_at, time.time())
    return {
        "access_token": issue_access_token(session.record.user_id, session.record.session_id),
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "refresh_token": session.refresh_token,
        "refresh_expires_in": refresh_expires_in,
    }


def token_refresh(request: RefreshInput) -> Success:
    """POST /api/token/refresh: rotate the refresh token, issue a new access token."""
    match = _REFRESH_TOKEN.fullmatch(request.refresh_token)
    if match is None:
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN)
    user_id, created_at, session_id, generation, chain, secret = match.groups()
    presented = session_records.PresentedToken(
        user_id=user_id,
        session_id=session_id,
        created_at=int(created_at),
        secret_hash=session_records.refresh_hash(secret),
        generation=None if generation is None else int(generation),
        chain_hash=None if chain is None else session_records.refresh_hash(chain),
    )
    replacement = secrets.token_urlsafe(_SECRET_BYTES)
    next_chain = chain or secrets.token_urlsafe(_SECRET_BYTES)  # a chain starts, if none
    try:
        session_records.rotate_session(
            presented,
            replacement=session_records.refresh_hash(replacement),
            chain_hash=session_records.refresh_hash(next_chain),
        )
    except session_records.ReuseDetectedError:
        # A second request, only now: a rotated token came back, so it may be stolen.
        reuse = Activity("refresh_reuse", session_id, request.user_agent, request.source_ip)
        session_records.end_session(session_id, user_id, put_event(user_id, reuse))
        metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
        logger.warning("Refresh token reuse: session ended", extra={"user_id": user_id})
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN) from None
    except session_records.RefreshRefusedError:
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN) from None
    record = session_records.NewSession(session_id, user_id, int(created_at), None)
    next_generation = 1 if presented.generation is None else presented.generation + 1
    return Success(
        message="Access token refreshed successfully.",
        data=session_tokens(StartedSession(record, replacement, next_chain, next_generation)),
    )


def _caller_event(name: str, caller: SessionCaller) -> Any:
    """The activity record of a call about the caller's own session."""
    origin = Activity(name, caller.session_id, caller.user_agent, caller.source_ip)
    return put_event(caller.user_id, origin)


def logout(request: LogoutInput) -> Success:
    """POST /api/logout: end the caller's session, or with `all` every session of theirs."""
    caller = request.caller
    event = _caller_event("logout", caller)
    if request.everywhere:
        session_records.end_all_sessions(caller.user_id, event)
    else:
        session_records.end_session(caller.session_id, caller.user_id, event)
    return Success(message="Logged out successfully.")


def users_logout(caller: SessionCaller) -> Success:
    """GET /users/logout: end the caller's session."""
    event = _caller_event("logout", caller)
    session_records.end_session(caller.session_id, caller.user_id, event)
    return Success(data={"message": "Logged out successfully"})


def list_sessions(caller: SessionCaller) -> Success:
    """GET /api/sessions: the caller's live sessions, newest first, theirs marked current."""
    sessions = session_records.read_sessions(caller.user_id)
    return Success(
        data={
            "sessions": [
                {
                    "session_id": session.session_id,
                    "created_at": iso_time(session.created_at),
                    "last_used_at": iso_time(session.last_used_at),
                    "user_agent": session.user_agent,
                    "current": session.session_id == caller.session_id,
                }
                for session in sessions
            ]
        }
    )


def delete_session(request: DeleteSessionInput) -> Success:
    """DELETE /api/sessions/{session_id}: end one live session of the caller's."""
    caller = request.caller
    # The session ended is the one named; the request came from the caller's.
    ended = Activity("session_ended", request.session_id, caller.user_agent, caller.source_ip)
    event = put_event(caller.user_id, ended)
    if not session_records.end_live_session(caller.user_id, request.session_id, event):
        raise ApiError(ErrorCode.SESSION_NOT_FOUND)
    return Success(message="Session ended.")
