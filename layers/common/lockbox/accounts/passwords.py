"""Password policy, hashing and verification (bcrypt)."""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import cache

import bcrypt

from lockbox.core.errors import ErrorCode
from lockbox.core.settings import PasswordPolicy, get_settings
from lockbox.core.validation import RuleViolation, control_reason, refuse_if, required_text

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer; refuse rather than truncate
_SPECIAL_CHARACTERS = frozenset(string.punctuation + " ")
MIN_EXPRESS_PASSWORD_LENGTH = 6  # the /users flavour's minimum, at registration and login

# Any syntactically valid hash works as the decoy: checking against it costs a full
# bcrypt run at the configured cost, so unknown users take as long as real ones.
_DECOY_SALT_AND_HASH = "lockboxdecoysaltvalue.mSs3Wt0fXhjRSXH5h7wNyFeMNp5aZt6"


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, as shipped by the zxcvbn package."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_bytes(password: str) -> bytes | None:
    """The UTF-8 encoding of a password, or None where it has no valid encoding."""
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None


def check_express_password_length(value: object) -> str:
    """The /users flavour's password rule as its login applies it: a string of at least
    MIN_EXPRESS_PASSWORD_LENGTH characters (registration adds its own checks)."""
    if not isinstance(value, str) or len(value) < MIN_EXPRESS_PASSWORD_LENGTH:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST,
            f"Password must be at least {MIN_EXPRESS_PASSWORD_LENGTH} characters long",
        )
    return value


def password_reason(password: str) -> str | None:
    """Why this password is refused under the configured policy, or None if it is accepted."""
    encoded = password_bytes(password)
    if encoded is None:
        return "Password must be valid Unicode text."
    if not MIN_PASSWORD_BYTES <= len(encoded) <= MAX_PASSWORD_BYTES:
        return f"Password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long in UTF-8."
    if password.lower() in _common_passwords():
        return "Password is too common. Please choose a less predictable password."
    if get_settings().password_policy is PasswordPolicy.STRICT:
        return _composition_reason(password)
    return None


def new_password_rule(label: str) -> Callable[[object], str]:
    """The rule of a field that sets a password: present text without control characters
    (INVALID_REQUEST), then the policy (INVALID_PASSWORD)."""

    def check(value: object) -> str:
        text = required_text(value, label, ErrorCode.INVALID_REQUEST)
        # bcrypt stops at a NUL: "secret\0anything" would match the hash of "secret".
        refuse_if(control_reason(text, label), ErrorCode.INVALID_REQUEST)
        refuse_if(password_reason(text), ErrorCode.INVALID_PASSWORD)
        return text

    return check


def _composition_reason(password: str) -> str | None:
    if not (
        any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
        and any(c in _SPECIAL_CHARACTERS or not c.isalnum() for c in password)
    ):
        return "Password must contain an upper-case letter, a lower-case letter, a digit and a special character."
    return None


def hash_password(password: str) -> str:
    """A bcrypt hash at the configured cost; the password must have passed the policy."""
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_cost)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches; always costs one bcrypt check, even without a hash."""
    encoded = password_bytes(password)
    # bcrypt stops at a NUL, so "secret\0junk" would match "secret": never a match.
    usable = encoded is not None and len(encoded) <= MAX_PASSWORD_BYTES and b"\0" not in encoded
    candidate = encoded if usable and encoded is not None else b"decoy password"
    stored = password_hash if usable and password_hash else _decoy_hash()
    matched = bcrypt.checkpw(candidate, stored.encode("ascii"))
    return matched and usable and password_hash is not None


def _decoy_hash() -> str:
    return f"$2b${get_settings().bcrypt_cost:02d}${_DECOY_SALT_AND_HASH}"
