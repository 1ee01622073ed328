"""Business logic of the session calls, POST /api/token/refresh and POST /api/logout, and
the tokens every session start hands out.

A refresh token is `<user_id>.<created_at>.<session_id>.<secret>`: the first three name
the session (so a refresh is one conditional write, without a read first), the secret
carries 256 random bits and is stored only as its SHA-256 (lockbox.sessions.session_records).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success
from lockbox.core.settings import get_settings
from lockbox.sessions import session_records
from lockbox.sessions.session_inputs import LogoutInput, RefreshInput, SessionCaller
from lockbox.signing.tokens import TOKEN_LIFETIME_SECONDS, issue_access_token

_SECRET_BYTES = 32  # 256 random bits
_REFRESH_TOKEN = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.([0-9]{1,20})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})"
)


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A session about to be written, with the secret only its client will ever see."""

    record: session_records.NewSession
    secret: str | None

    @property
    def refresh_token(self) -> str:
        assert self.secret is not None, "a /users session has no refresh token"
        record = self.record
        return f"{record.user_id}.{record.created_at}.{record.session_id}.{self.secret}"


def start_session(user_id: str, *, refreshable: bool = True) -> StartedSession:
    """A new session of the user: an id, and for /api logins a refresh token secret."""
    secret = secrets.token_urlsafe(_SECRET_BYTES) if refreshable else None
    record = session_records.NewSession(
        session_id=secrets.token_urlsafe(16),
        user_id=user_id,
        created_at=session_records.now_microseconds(),
        refresh_hash=session_records.refresh_hash(secret) if secret else None,
    )
    return StartedSession(record, secret)


def session_tokens(session: StartedSession) -> dict[str, Any]:
    """The data of a successful /api/token or /api/token/refresh."""
    return {
        "access_token": issue_access_token(session.record.user_id, session.record.session_id),
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "refresh_token": session.refresh_token,
        "refresh_expires_in": get_settings().refresh_token_lifetime,
    }


def token_refresh(request: RefreshInput) -> Success:
    """POST /api/token/refresh: rotate the refresh token, issue a new access token."""
    match = _REFRESH_TOKEN.fullmatch(request.refresh_token)
    if match is None:
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN)
    user_id, created_at, session_id, secret = match.groups()
    replacement = secrets.token_urlsafe(_SECRET_BYTES)
    try:
        session_records.rotate_session(
            user_id=user_id,
            session_id=session_id,
            created_at=int(created_at),
            presented=session_records.refresh_hash(secret),
            replacement=session_records.refresh_hash(replacement),
        )
    except session_records.ReuseDetectedError:
        # A second request, only now: a rotated token came back, so it may be stolen.
        session_records.end_session(session_id, user_id)
        metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
        logger.warning("Refresh token reuse: session ended", extra={"user_id": user_id})
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN) from None
    except session_records.RefreshRefusedError:
        raise ApiError(ErrorCode.INVALID_REFRESH_TOKEN) from None
    record = session_records.NewSession(session_id, user_id, int(created_at), None)
    return Success(
        message="Access token refreshed successfully.",
        data=session_tokens(StartedSession(record, replacement)),
    )


def logout(request: LogoutInput) -> Success:
    """POST /api/logout: end the caller's session, or with `all` every session of theirs."""
    caller = request.caller
    if request.everywhere:
        session_records.end_all_sessions(caller.user_id)
    else:
        session_records.end_session(caller.session_id, caller.user_id)
    return Success(message="Logged out successfully.")


def users_logout(caller: SessionCaller) -> Success:
    """GET /users/logout: end the caller's session."""
    session_records.end_session(caller.session_id, caller.user_id)
    return Success(data={"message": "Logged out successfully"})
