"""Access tokens: HS256 JWTs with pinned algorithm and every claim required."""

from __future__ import annotations

import re
import time
import uuid

import jwt
from jwt.utils import base64url_decode, base64url_encode

from lockbox.secrets import jwt_signing_key
from lockbox.settings import get_settings

ALGORITHM = "HS256"
TOKEN_LIFETIME_SECONDS = 3600
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti")
# JWS compact serialization (RFC 7515, 7.1): three base64url segments, no padding.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)")


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
    _check_encoding(token)
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
    # PyJWT reads a NumericDate written as a string ("exp": "1999999999"); RFC 7519 does not.
    if not all(_is_number(claims[name]) for name in ("exp", "iat")):
        raise InvalidTokenError("InvalidNumericDateError")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("InvalidSubjectError")
    return subject


def _check_encoding(token: str) -> None:
    """Only the one encoding this service writes: no padding, no other spelling of the
    signature's bytes (its last character's unused bits are zero), so that a token
    is accepted in exactly the form it was issued."""
    match = _COMPACT_JWS.fullmatch(token)
    if match is None:
        raise InvalidTokenError("MalformedTokenError")
    signature = match.group(1).encode("ascii")
    try:
        canonical = base64url_encode(base64url_decode(signature)) == signature
    except ValueError:  # binascii.Error: a length base64 cannot have
        canonical = False
    if not canonical:
        raise InvalidTokenError("MalformedTokenError")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
