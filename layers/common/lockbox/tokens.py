"""Access tokens: HS256 JWTs with pinned algorithm and every claim required."""

from __future__ import annotations

import time
import uuid

import jwt

from lockbox.secrets import jwt_signing_key
from lockbox.settings import get_settings

ALGORITHM = "HS256"
TOKEN_LIFETIME_SECONDS = 3600
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti")


class InvalidTokenError(Exception):
    """The token is not one this service issued, or no longer valid."""


def issue_access_token(user_id: str, issued_at: int | None = None) -> str:
    settings = get_settings()
    now = int(time.time()) if issued_at is None else issued_at
    claims = {
        "sub": user_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, jwt_signing_key(), algorithm=ALGORITHM)


def verify_access_token(token: str) -> str:
    """The user id (`sub`) of a valid token; InvalidTokenError for anything else."""
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            jwt_signing_key(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(type(error).__name__) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("InvalidSubjectError")
    return subject
