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
from functools import lru_cache

from lockbox.signing.account_keys import Purpose, current_key, key_version

CODE_COUNT = 10
_CODE_LENGTH = 16  # base32 characters: 80 bits, shown in four groups of four
# bytes.translate's table from a random byte to a code character: 256 is 8 x 32, so each
# character is uniform over the 32 of base32 (lower case) and carries 5 random bits.
_AS_CODE_CHARACTERS = ("abcdefghijklmnopqrstuvwxyz234567" * 8).encode("ascii")
_DERIVATION = b"lockbox recovery codes"
_SEPARATORS = re.compile(r"[\s-]")
SHAPE = re.compile(r"[a-z2-7]{16}")  # a code as typed, once normalized


def new_codes() -> list[str]:
    """Ten fresh codes, as shown to the user (`abcd-efgh-ijkl-mnop`, four groups of four):
    80 random bits each, in base32 (lower case)."""
    # One read of the OS's randomness, a byte a character, mapped in C (base64.b32encode
    # is pure Python: it was most of the minting).
    text = secrets.token_bytes(_CODE_LENGTH * CODE_COUNT).translate(_AS_CODE_CHARACTERS).decode()
    return [
        f"{text[i : i + 4]}-{text[i + 4 : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}"
        for i in range(0, len(text), _CODE_LENGTH)
    ]


def normalized(code: str) -> str | None:
    """The code without separators, lower case; None when it cannot be a recovery code."""
    plain = _SEPARATORS.sub("", code).lower()
    return plain if SHAPE.fullmatch(plain) else None


def _hash_with(version: str, keyed: hmac.HMAC, plain: str) -> str:
    code_hash = keyed.copy()
    code_hash.update(plain.encode("ascii"))
    return f"{version}:{code_hash.hexdigest()}"


@lru_cache(maxsize=4)  # the current key's, and older ones' during a rotation
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 under the recovery codes' key (derived from the TOTP account key),
    with no message yet: each code's hash is a copy of it, which skips the key's setup."""
    return hmac.new(hmac.digest(key, _DERIVATION, "sha256"), digestmod=hashlib.sha256)


def code_hashes(codes: list[str]) -> list[str]:
    """What is stored for these new codes (as new_codes shows them): their hashes under
    the current key."""
    key = current_key(Purpose.TOTP_SECRET)
    keyed = _keyed(key.key)
    return [_hash_with(key.version, keyed, code.replace("-", "")) for code in codes]


def stored_hash(code: str, hashes: set[str]) -> str | None:
    """The stored hash (of `hashes`) this code matches, if any: the one a use removes."""
    plain = normalized(code)
    if plain is None:
        return None
    for version in sorted({stored.partition(":")[0] for stored in hashes}):
        key = key_version(Purpose.TOTP_SECRET, version)
        if key is not None and (candidate := _hash_with(version, _keyed(key), plain)) in hashes:
            return candidate
    return None
