"""Access tokens: HS256 JWTs with pinned algorithm and every claim required.

The header's `kid` names the signing key (its Secrets Manager version id, lockbox/signing/signing_keys.py):
a token verifies only with the key its kid names, and only while that key is the current or
the previous one. A token without a kid, or naming any other key, is refused.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from jwt.utils import base64url_decode, base64url_encode

from lockbox.core.settings import get_settings
from lockbox.signing.lifetimes import MFA_TOKEN_LIFETIME_SECONDS, TOKEN_LIFETIME_SECONDS
from lockbox.signing.signing_keys import SigningKey, signing_key, verification_key

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti", "sid")
# JWS compact serialization (RFC 7515, 7.1): three base64url segments, no padding.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)")


class InvalidTokenError(Exception):
    """The token is not one this service issued, or no longer valid."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str  # sub
    session_id: str  # sid: the session the token belongs to (lockbox.sessions.session_records)


def issue_access_token(user_id: str, session_id: str, issued_at: int | None = None) -> str:
    settings = get_settings()
    now = int(time.time()) if issued_at is None else issued_at
    claims = {
        "sub": user_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
        "sid": session_id,
    }
    key = signing_key()
    # The JWS compact form PyJWT writes (RFC 7515, 7.1), byte for byte, signed here: jwt.encode
    # re-examines the secret on every call (is it a PEM, SSH or DER key, or a JWK?), about
    # half the cost of issuing a token.
    signing_input = (
        _encoded_header(key.kid)
        + b"."
        + base64url_encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    )
    signature = hmac.digest(key.secret.encode("utf-8"), signing_input, "sha256")
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii")


@lru_cache(maxsize=4)  # the current key's, and the previous key's during a rotation
def _encoded_header(kid: str) -> bytes:
    header = {"alg": ALGORITHM, "kid": kid, "typ": "JWT"}  # sorted, as PyJWT writes it
    return base64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))


def verify_access_token(token: str) -> str:
    """The user id (`sub`) of a valid token; InvalidTokenError for anything else."""
    return verify_access_claims(token).user_id


def verify_access_claims(token: str) -> AccessClaims:
    """The user and session of a valid token; InvalidTokenError for anything else."""
    claims = _verified_claims(token, get_settings().jwt_audience, REQUIRED_CLAIMS)
    # PyJWT reads a NumericDate written as a string ("exp": "1999999999"); RFC 7519 does not.
    if not all(_is_number(claims[name]) for name in ("exp", "iat")):
        raise InvalidTokenError("InvalidNumericDateError")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("InvalidSubjectError")
    session_id = claims["sid"]
    if not isinstance(session_id, str) or not session_id:
        raise InvalidTokenError("InvalidSessionError")
    return AccessClaims(user_id=subject, session_id=session_id)


_MFA_AUDIENCE_SUFFIX = "/mfa"  # an mfa_token is no access token: the authorizer refuses it
_MFA_REQUIRED_CLAIMS = ("sub", "name", "iat", "exp", "iss", "aud", "jti")


@dataclass(frozen=True, slots=True)
class MfaClaims:
    user_id: str  # sub
    login: str  # the name the password step counted (SPEC "Login protection")
    token_id: str  # jti: spent once
    expires_at: int  # exp


def issue_mfa_token(user_id: str, login: str) -> str:
    """The mfa_token of a login whose password matched: five minutes to give a code, for
    this account and the name its password step counted. Signed with the access tokens'
    key, for another audience."""
    settings = get_settings()
    key = signing_key()
    now = int(time.time())
    claims = {
        "sub": user_id,
        "name": login,
        "iat": now,
        "exp": now + MFA_TOKEN_LIFETIME_SECONDS,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience + _MFA_AUDIENCE_SUFFIX,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})


def verify_mfa_token(token: str) -> MfaClaims:
    """The claims of a valid, unexpired mfa_token; InvalidTokenError for anything else
    (an access token included). Whether it was spent is the write's to decide."""
    audience = get_settings().jwt_audience + _MFA_AUDIENCE_SUFFIX
    claims = _verified_claims(token, audience, _MFA_REQUIRED_CLAIMS)
    fields = (claims["sub"], claims["name"], claims["jti"])
    if not all(isinstance(value, str) and value for value in fields):
        raise InvalidTokenError("InvalidClaimsError")
    if not _is_number(claims["exp"]):
        raise InvalidTokenError("InvalidNumericDateError")
    return MfaClaims(claims["sub"], claims["name"], claims["jti"], int(claims["exp"]))


def _verified_claims(token: str, audience: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The claims of a token in this service's encoding, signed by a key it may verify
    with, for this audience, unexpired, with every required claim; else InvalidTokenError."""
    _check_encoding(token)
    try:
        key = _verification_key(jwt.get_unverified_header(token))
        claims: dict[str, Any] = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=get_settings().jwt_issuer,
            options={"require": list(required)},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(type(error).__name__) from None
    return claims


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


def _verification_key(header: dict[str, object]) -> SigningKey:
    """The key the header's kid names, if it may verify tokens (alg checked first: a token
    of another algorithm never makes the keys be fetched again)."""
    if header.get("alg") != ALGORITHM:
        raise InvalidTokenError("InvalidAlgorithmError")
    kid = header.get("kid")
    key = verification_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidTokenError("UnknownKeyError")
    return key
