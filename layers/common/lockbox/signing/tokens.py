"""Access tokens: HS256 JWTs with pinned algorithm and every claim required.

The header's `kid` names the signing key (its Secrets Manager version id, lockbox/signing/signing_keys.py):
a token verifies only with the key its kid names, and only while that key is the current or
the previous one. A token without a kid, or naming any other key, is refused.

Tokens are signed and checked here with the standard library's HMAC (RFC 7515 for the
JWS, RFC 7519 for the claims), not with PyJWT: importing PyJWT imports the cryptography
package's X.509 modules (about 40 ms of every cold start of the authorizer and of each
function that signs), and its decoder checks every character of a segment in Python
(half the authorizer's warm time). Only one algorithm and one encoding are accepted, so
the whole check is short; the tests hold it to PyJWT's answers (tests/unit/test_signing_tokens.py).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import secrets
import time
from functools import lru_cache
from typing import Any, NamedTuple

from lockbox.core.settings import get_settings
from lockbox.signing.lifetimes import MFA_TOKEN_LIFETIME_SECONDS, TOKEN_LIFETIME_SECONDS
from lockbox.signing.signing_keys import signing_key, verification_key

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti", "sid")
# JWS compact serialization (RFC 7515, 7.1): three base64url segments, no padding.
_COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
# The header members this service writes; a token naming anything else (a `crit`
# extension, an unencoded payload, a key by URL) is not one of its tokens.
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})


class InvalidTokenError(Exception):
    """The token is not one this service issued, or no longer valid."""


class AccessClaims(NamedTuple):
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
        "jti": secrets.token_hex(16),
        "sid": session_id,
    }
    return _signed(claims)


def _signed(claims: dict[str, Any]) -> str:
    """The JWS compact form (RFC 7515, 7.1) of the claims, signed with the current key:
    byte for byte what PyJWT writes for them."""
    key = signing_key()
    signing_input = _encoded_header(key.kid) + b"." + _base64url(_compact_json(claims))
    signature = hmac.digest(key.secret.encode("utf-8"), signing_input, "sha256")
    return (signing_input + b"." + _base64url(signature)).decode("ascii")


@lru_cache(maxsize=4)  # the current key's, and the previous key's during a rotation
def _encoded_header(kid: str) -> bytes:
    return _base64url(_compact_json({"alg": ALGORITHM, "kid": kid, "typ": "JWT"}))


# json.dumps with separators builds an encoder on every call; this one is built once.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _compact_json(value: dict[str, Any]) -> bytes:
    return _COMPACT_JSON.encode(value).encode("utf-8")


def _base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _base64url_decode(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def verify_access_token(token: str) -> str:
    """The user id (`sub`) of a valid token; InvalidTokenError for anything else."""
    return verify_access_claims(token).user_id


def verify_access_claims(token: str) -> AccessClaims:
    """The user and session of a valid token; InvalidTokenError for anything else."""
    claims = _verified_claims(token, get_settings().jwt_audience, REQUIRED_CLAIMS)
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("InvalidSubjectError")
    session_id = claims["sid"]
    if not isinstance(session_id, str) or not session_id:
        raise InvalidTokenError("InvalidSessionError")
    return AccessClaims(user_id=subject, session_id=session_id)


_MFA_AUDIENCE_SUFFIX = "/mfa"  # an mfa_token is no access token: the authorizer refuses it
_MFA_REQUIRED_CLAIMS = ("sub", "name", "iat", "exp", "iss", "aud", "jti")


class MfaClaims(NamedTuple):
    user_id: str  # sub
    login: str  # the name the password step counted (SPEC "Login protection")
    token_id: str  # jti: spent once
    expires_at: int  # exp


def issue_mfa_token(user_id: str, login: str) -> str:
    """The mfa_token of a login whose password matched: five minutes to give a code, for
    this account and the name its password step counted. Signed with the access tokens'
    key, for another audience."""
    settings = get_settings()
    now = int(time.time())
    claims = {
        "sub": user_id,
        "name": login,
        "iat": now,
        "exp": now + MFA_TOKEN_LIFETIME_SECONDS,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience + _MFA_AUDIENCE_SUFFIX,
        "jti": secrets.token_hex(16),
    }
    return _signed(claims)


def verify_mfa_token(token: str) -> MfaClaims:
    """The claims of a valid, unexpired mfa_token; InvalidTokenError for anything else
    (an access token included). Whether it was spent is the write's to decide."""
    audience = get_settings().jwt_audience + _MFA_AUDIENCE_SUFFIX
    claims = _verified_claims(token, audience, _MFA_REQUIRED_CLAIMS)
    fields = (claims["sub"], claims["name"], claims["jti"])
    if not all(isinstance(value, str) and value for value in fields):
        raise InvalidTokenError("InvalidClaimsError")
    return MfaClaims(claims["sub"], claims["name"], claims["jti"], int(claims["exp"]))


def _verified_claims(token: str, audience: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The claims of a token in this service's encoding, signed by a key it may verify
    with, for this audience and issuer, in its lifetime, with every required claim; else
    InvalidTokenError (its message names the check, for the logs)."""
    header_segment, payload_segment, signature = _segments(token)
    key = verification_key(_header_kid(header_segment))
    if key is None:
        raise InvalidTokenError("UnknownKeyError")
    expected = hmac.digest(
        key.secret.encode("utf-8"), header_segment + b"." + payload_segment, "sha256"
    )
    if not hmac.compare_digest(expected, signature):
        raise InvalidTokenError("InvalidSignatureError")
    claims = _json_object(payload_segment)
    if any(claims.get(name) is None for name in required):
        raise InvalidTokenError("MissingRequiredClaimError")
    _check_times(claims)
    if claims["iss"] != get_settings().jwt_issuer:
        raise InvalidTokenError("InvalidIssuerError")
    audiences = claims["aud"]
    if isinstance(audiences, str):
        audiences = [audiences]
    if (
        not isinstance(audiences, list)
        or not all(isinstance(a, str) for a in audiences)
        or audience not in audiences
    ):
        raise InvalidTokenError("InvalidAudienceError")
    if not all(isinstance(claims.get(name, ""), str) for name in ("sub", "jti")):
        raise InvalidTokenError("InvalidClaimsError")
    return claims


def _segments(token: str) -> tuple[bytes, bytes, bytes]:
    """The header and payload segments as written, and the signature's bytes. Only the
    one encoding this service writes: no padding, no other spelling of the signature's
    bytes (its last character's unused bits are zero), so that a token is accepted in
    exactly the form it was issued."""
    match = _COMPACT_JWS.fullmatch(token)
    if match is None:
        raise InvalidTokenError("MalformedTokenError")
    header, payload, signature = (part.encode("ascii") for part in match.groups())
    try:
        signature_bytes = _base64url_decode(signature)
    except binascii.Error:  # a length base64 cannot have
        raise InvalidTokenError("MalformedTokenError") from None
    if _base64url(signature_bytes) != signature:
        raise InvalidTokenError("MalformedTokenError")
    return header, payload, signature_bytes


def _json_object(segment: bytes) -> dict[str, Any]:
    try:
        value = json.loads(_base64url_decode(segment))
    except (binascii.Error, ValueError):  # not base64url, not UTF-8, not JSON
        raise InvalidTokenError("DecodeError") from None
    if not isinstance(value, dict):
        raise InvalidTokenError("DecodeError")
    return value


def _check_times(claims: dict[str, Any]) -> None:
    """Unexpired (`exp`), not issued in the future (`iat`), not before its `nbf`: NumericDates
    (RFC 7519, 2) compared as whole seconds, no leeway; a date written as a string is none."""
    now = time.time()
    dates = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    if not all(_is_number(value) for value in dates.values()):
        raise InvalidTokenError("InvalidNumericDateError")
    if "exp" in dates and int(dates["exp"]) <= now:
        raise InvalidTokenError("ExpiredSignatureError")
    if any(int(dates[name]) > now for name in ("iat", "nbf") if name in dates):
        raise InvalidTokenError("ImmatureSignatureError")


def _is_number(value: object) -> bool:
    """An integer or a finite float (JSON's parser also reads Infinity and NaN)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


# Every token of a key has the same header: checked once per header, not on every token
# (a header that fails raises, which the cache does not keep).
@lru_cache(maxsize=8)
def _header_kid(header_segment: bytes) -> str:
    """The kid of a header this service writes: only its members, typ JWT, alg HS256
    (checked before the kid, so a token of another algorithm never makes the keys be
    fetched again)."""
    header = _json_object(header_segment)
    if not header.keys() <= _HEADER_MEMBERS or header.get("typ", "JWT") != "JWT":
        raise InvalidTokenError("InvalidHeaderError")
    if header.get("alg") != ALGORITHM:
        raise InvalidTokenError("InvalidAlgorithmError")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidTokenError("UnknownKeyError")
    return kid
