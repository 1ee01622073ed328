"""Recovery codes: ten single-use codes shown once, stored only as keyed hashes.

Each code is 80 random bits (16 base32 characters in groups of four), so a fast keyed hash
(HMAC-SHA256) is enough: there is nothing to guess offline, and the key lives in Secrets
Manager, not in the table. The HMAC key is derived from the account key for TOTP secrets
(the same rotation, a different use): a hash is stored as `<key version>:<hex>`, so codes
hashed before a key rotation still match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from lockbox.signing.account_keys import Purpose, current_key, key_version

CODE_COUNT = 10
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: easy to read out
_GROUPS, _GROUP_LENGTH = 4, 4
_DERIVATION = b"lockbox recovery codes"
_SEPARATORS = re.compile(r"[\s-]")
SHAPE = re.compile(r"[a-z2-7]{16}")  # a code as typed, once normalized


def new_codes() -> list[str]:
    """Ten fresh codes, as shown to the user (`abcd-efgh-ijkl-mnop`)."""
    return [
        "-".join(
            "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
        )
        for _ in range(CODE_COUNT)
    ]


def normalized(code: str) -> str | None:
    """The code without separators, lower case; None when it cannot be a recovery code."""
    plain = _SEPARATORS.sub("", code).lower()
    return plain if SHAPE.fullmatch(plain) else None


def _hash_with(version: str, key: bytes, plain: str) -> str:
    derived = hmac.digest(key, _DERIVATION, "sha256")
    return f"{version}:{hmac.new(derived, plain.encode('ascii'), hashlib.sha256).hexdigest()}"


def code_hashes(codes: list[str]) -> list[str]:
    """What is stored for these codes: their hashes under the current key."""
    key = current_key(Purpose.TOTP_SECRET)
    return [_hash_with(key.version, key.key, normalized(code) or code) for code in codes]


def stored_hash(code: str, hashes: set[str]) -> str | None:
    """The stored hash (of `hashes`) this code matches, if any: the one a use removes."""
    plain = normalized(code)
    if plain is None:
        return None
    for version in sorted({stored.partition(":")[0] for stored in hashes}):
        key = key_version(Purpose.TOTP_SECRET, version)
        if key is not None and (candidate := _hash_with(version, key, plain)) in hashes:
            return candidate
    return None
