"""Links mailed to users (SPEC "Email: verification and recovery"): a token of 256 random
bits after the id of its account, `<user_id>.<secret>`, so that using it reads the one
profile that holds its hash. Only the hash is stored, on the profile, with its expiry; a
new link of a kind overwrites the older one's hash (only the newest works), and using a
link removes it (single use).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import StrEnum
from typing import NamedTuple

LINK_BYTES = 32  # 256 random bits
VERIFY_LINK_SECONDS = 7 * 86_400
EMAIL_LINK_SECONDS = 86_400  # an address change waits a day for its confirmation
# A token as minted: a user id (a UUID) and the urlsafe base64 of LINK_BYTES bytes.
_TOKEN = re.compile(r"([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}")


class LinkKind(StrEnum):
    VERIFY = "verify"  # confirms the account's address (registration, verify/send)
    RESET = "reset"  # sets a new password (forgot)
    EMAIL = "email"  # confirms a new address (POST /api/email), which it names

    @property
    def hash_attribute(self) -> str:
        return f"{self.value}_link_hash"

    @property
    def expiry_attribute(self) -> str:
        return f"{self.value}_link_expires_at"


# The address an email link confirms, kept on the profile beside the link's hash.
PENDING_EMAIL = "email_link_address"

# Every link attribute of a profile: a password change removes them all (voids every link).
LINK_ATTRIBUTES = ", ".join(
    [
        *(name for kind in LinkKind for name in (kind.hash_attribute, kind.expiry_attribute)),
        PENDING_EMAIL,
    ]
)


class NewLink(NamedTuple):
    token: str  # mailed, never stored or logged
    token_hash: str


def new_link(user_id: str) -> NewLink:
    token = f"{user_id}.{secrets.token_urlsafe(LINK_BYTES)}"
    return NewLink(token=token, token_hash=token_hash(token))


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (the token carries 256 random bits, so a
    fast hash is enough; a leaked hash cannot be turned back into a link)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_owner(token: str) -> str | None:
    """The user id a well-formed token names; None for anything else."""
    found = _TOKEN.fullmatch(token)
    return found[1] if found else None


def same_hash(stored: str, token: str) -> bool:
    return hmac.compare_digest(stored, token_hash(token))
