"""Password policy, hashing and verification (bcrypt).

The policy (SPEC.md, "Passwords") is one for every call that sets a password: 8 to 128
characters, counted as Unicode code points after NFC normalisation (so "日本語" is 3
characters, whatever its UTF-8 length), not among the most common passwords, and not
containing the account's names. /users/register keeps its front ends' 6-character minimum
and refuses the common passwords too (check_express_password).
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import bcrypt

from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.settings import PasswordPolicy, get_settings
from lockbox.core.validation import (
    RuleViolation,
    control_reason,
    is_valid_unicode,
    refuse_if,
    required_text,
)

MIN_PASSWORD_LENGTH = 8  # characters: code points after NFC
MAX_PASSWORD_LENGTH = 128
MAX_PASSWORD_BYTES = 72  # bcrypt's own limit, until passwords are pre-hashed
COMMON_PASSWORDS = 10_000  # the top of zxcvbn's ranked list that is refused
MIN_EMAIL_WORD_LENGTH = 4  # a shorter local part ("jo@...") would refuse too much
PRODUCT_WORD = "lockbox"
_SPECIAL_CHARACTERS = frozenset(string.punctuation + " ")
MIN_EXPRESS_PASSWORD_LENGTH = 6  # the /users flavour's minimum, at registration and login
TOO_COMMON = "Password is too common"  # the /users flavour's error item, as SPEC.md words it

# Any syntactically valid hash works as the decoy: checking against it costs a full
# bcrypt run at the configured cost, so unknown users take as long as real ones.
_DECOY_SALT_AND_HASH = "lockboxdecoysaltvalue.mSs3Wt0fXhjRSXH5h7wNyFeMNp5aZt6"


@dataclass(frozen=True, slots=True)
class PasswordContext:
    """The account's own words, which its password may not contain."""

    username: str | None = None
    email: str | None = None

    def words(self) -> list[tuple[str, str]]:
        """Each word to look for (case-folded, NFC) with the reason it is refused."""
        words = [(PRODUCT_WORD, f'Password must not contain the word "{PRODUCT_WORD}".')]
        if self.username:
            words.append((_folded(self.username), "Password must not contain the username."))
        local_part = self.email.rpartition("@")[0] if self.email else ""
        if len(_normalized(local_part)) >= MIN_EMAIL_WORD_LENGTH:
            words.append(
                (_folded(local_part), "Password must not contain the email address's name.")
            )
        return words


NO_CONTEXT = PasswordContext()


def _normalized(text: str) -> str:
    """The password as counted and hashed: NFC, so one character typed two ways is one."""
    return unicodedata.normalize("NFC", text)


def _folded(text: str) -> str:
    return _normalized(text).casefold()


@cache
def _common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords of zxcvbn's list (ranked, most common first)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS])


def password_length(password: str) -> int:
    """The password's length as the policy counts it: code points after NFC."""
    return len(_normalized(password))


def is_common(password: str) -> bool:
    """Whether the password is among the most common ones, in any case."""
    return _folded(password) in _common_passwords()


def check_express_password_length(value: object) -> str:
    """The /users flavour's password rule as its login applies it: a string of at least
    MIN_EXPRESS_PASSWORD_LENGTH characters (registration adds its own checks)."""
    if not isinstance(value, str) or password_length(value) < MIN_EXPRESS_PASSWORD_LENGTH:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST,
            f"Password must be at least {MIN_EXPRESS_PASSWORD_LENGTH} characters long",
        )
    return value


def check_express_password(value: object) -> str:
    """POST /users/register's password: its front ends' minimum, bcrypt's maximum, no
    control characters, and not a common password (messages in its front ends' style)."""
    value = check_express_password_length(value)
    if not is_valid_unicode(value) or len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST, f"Password must be at most {MAX_PASSWORD_BYTES} bytes long"
        )
    refuse_if(control_reason(value, "Password"), ErrorCode.INVALID_REQUEST)
    if is_common(value):
        raise RuleViolation(ErrorCode.INVALID_REQUEST, TOO_COMMON)
    return value


def password_reason(password: str, context: PasswordContext = NO_CONTEXT) -> str | None:
    """Why this password is refused under the configured policy, or None if it is accepted."""
    if not is_valid_unicode(password):
        return "Password must be valid Unicode text."
    if not MIN_PASSWORD_LENGTH <= password_length(password) <= MAX_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8."
    if is_common(password):
        return "Password is too common. Please choose a less predictable password."
    folded = _folded(password)
    for word, reason in context.words():
        if word in folded:
            return reason
    if get_settings().password_policy is PasswordPolicy.STRICT:
        return _composition_reason(password)
    return None


def new_password_rule(label: str, context: PasswordContext = NO_CONTEXT) -> Callable[[object], str]:
    """The rule of a field that sets a password: present text without control characters
    (INVALID_REQUEST), then the policy (INVALID_PASSWORD). A call that learns the account's
    names only later checks them then (refuse_context_words)."""

    def check(value: object) -> str:
        text = required_text(value, label, ErrorCode.INVALID_REQUEST)
        # bcrypt stops at a NUL: "secret\0anything" would match the hash of "secret".
        refuse_if(control_reason(text, label), ErrorCode.INVALID_REQUEST)
        refuse_if(password_reason(text, context), ErrorCode.INVALID_PASSWORD)
        return text

    return check


def refuse_context_words(password: str, context: PasswordContext, field: str) -> None:
    """INVALID_PASSWORD (with `field` in details) when a password that passed the rest of
    the policy contains one of the account's words."""
    folded = _folded(password)
    for word, reason in context.words():
        if word in folded:
            raise ApiError(ErrorCode.INVALID_PASSWORD, [Detail(field, reason)])


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


def password_bytes(password: str) -> bytes | None:
    """The UTF-8 encoding of a password, or None where it has no valid encoding."""
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None


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
