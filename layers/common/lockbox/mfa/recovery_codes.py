"""Recovery codes: ten single-use codes shown once, stored only as keyed hashes.

Each code is 80 random bits (16 base32 characters in groups of four), so a fast keyed hash
(HMAC-SHA256) is enough: there is nothing to guess offline, and the key lives in Secrets
Manager, not in the table. The HMAC key is derived from the account key for TOTP secrets
(the same rotation, a different use): a hash is stored as `<key version>:<hex>`, so codes
hashed before a key rotation still match.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets

from lockbox.signing.account_keys import Purpose, current_key, key_version

CODE_COUNT = 10
_CODE_BYTES = 10  # 80 bits: 16 base32 characters, no padding
_GROUP_LENGTH = 4
_DERIVATION = b"lockbox recovery codes"
_SEPARATORS = re.compile(r"[\s-]")
SHAPE = re.compile(r"[a-z2-7]{16}")  # a code as typed, once normalized


def new_codes() -> list[str]:
    """Ten fresh codes, as shown to the user (`abcd-efgh-ijkl-mnop`): 80 random bits each,
    in base32 (lower case)."""
    # One encoding of all the random bytes: 10 bytes are exactly 16 base32 characters, so
    # each code's characters are its own 80 bits (base64.b32encode is pure Python, slow).
    text = base64.b32encode(secrets.token_bytes(_CODE_BYTES * CODE_COUNT)).decode("ascii").lower()
    length = len(text) // CODE_COUNT
    return [
        "-".join(
            text[start + i : start + i + _GROUP_LENGTH] for i in range(0, length, _GROUP_LENGTH)
        )
        for start in range(0, len(text), length)
    ]


def normalized(code: str) -> str | None:
    """The code without separators, lower case; None when it cannot be a recovery code."""
    plain = _SEPARATORS.sub("", code).lower()
    return plain if SHAPE.fullmatch(plain) else None


def _hash_with(version: str, derived: bytes, plain: str) -> str:
    return f"{version}:{hmac.digest(derived, plain.encode('ascii'), 'sha256').hex()}"


def _derived(key: bytes) -> bytes:
    """The HMAC key of recovery codes, derived from the TOTP account key."""
    return hmac.digest(key, _DERIVATION, "sha256")


def code_hashes(codes: list[str]) -> list[str]:
    """What is stored for these new codes (as new_codes shows them): their hashes under
    the current key."""
    key = current_key(Purpose.TOTP_SECRET)
    derived = _derived(key.key)
    return [_hash_with(key.version, derived, code.replace("-", "")) for code in codes]


def stored_hash(code: str, hashes: set[str]) -> str | None:
    """The stored hash (of `hashes`) this code matches, if any: the one a use removes."""
    plain = normalized(code)
    if plain is None:
        return None
    for version in sorted({stored.partition(":")[0] for stored in hashes}):
        key = key_version(Purpose.TOTP_SECRET, version)
        if key is not None and (candidate := _hash_with(version, _derived(key), plain)) in hashes:
            return candidate
    return None
