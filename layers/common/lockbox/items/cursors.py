"""List cursors: opaque to clients, tamper-evident, bound to one user and one prefix.

A cursor is `<payload>.<signature><kid>`: the payload is the JSON `{"k": <last key of
the page>}` in base64url without padding, the signature (43 characters of base64url) is
HMAC-SHA256 over the JSON array
[user_id, prefix, payload] with a key derived from that JWT signing key for this purpose
only (HMAC(signing key, "lockbox list cursor")), and the kid after it names that signing
key as an access token's `kid` does. A cursor verifies with the current or the
previous signing key, as tokens do (lockbox.signing.signing_keys.verification_key), so it
survives a rotation, even in a container whose cache predates it; a cursor without a kid
(from before kids) is tried with both. The signature is checked before the payload is
parsed, so a changed, truncated or foreign cursor (another user's, another prefix's, or one
signed with a key older than the previous one) is refused, and the listing always starts
inside the caller's own keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from functools import lru_cache

from lockbox.signing import signing_keys

_PURPOSE = b"lockbox list cursor"
_MAX_CURSOR_CHARS = 2048  # a key of 256 UTF-8 bytes makes a cursor of well under 1,000
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE_CHARS = 43  # 32 bytes of HMAC-SHA256 in base64url without padding


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=2)  # the current signing key, and the previous one while it rotates
def _cursor_key(signing_key: str) -> bytes:
    return hmac.new(signing_key.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def _signature(key: signing_keys.SigningKey, user_id: str, prefix: str, payload: str) -> str:
    message = json.dumps([user_id, prefix, payload], ensure_ascii=False).encode("utf-8")
    return _b64(hmac.new(_cursor_key(key.secret), message, hashlib.sha256).digest())


def make_cursor(user_id: str, prefix: str, last_key: str) -> str:
    """The cursor of the page after `last_key`, for this user and prefix."""
    payload = _b64(json.dumps({"k": last_key}, ensure_ascii=False).encode("utf-8"))
    key = signing_keys.signing_key()
    return f"{payload}.{_signature(key, user_id, prefix, payload)}{key.kid}"


def _signed(user_id: str, prefix: str, payload: str, kid: str, signature: str) -> bool:
    if kid:
        key = signing_keys.verification_key(kid)
        keys = [] if key is None else [key]
    else:
        keys = signing_keys.verification_keys()
    return any(
        hmac.compare_digest(signature, _signature(key, user_id, prefix, payload)) for key in keys
    )


def read_cursor(cursor: str, user_id: str, prefix: str) -> str | None:
    """The last key a cursor carries, or None if it is not one this API gave this user
    for this prefix."""
    if len(cursor) > _MAX_CURSOR_CHARS:
        return None
    payload, dot, signed = cursor.partition(".")
    if not dot or not _BASE64URL.fullmatch(payload) or not _BASE64URL.fullmatch(signed):
        return None
    signature, kid = signed[:_SIGNATURE_CHARS], signed[_SIGNATURE_CHARS:]
    if not _signed(user_id, prefix, payload, kid, signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    last_key = data.get("k") if isinstance(data, dict) else None
    if not isinstance(last_key, str) or not last_key.startswith(prefix):
        return None
    return last_key
