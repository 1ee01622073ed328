"""Password policy, hashing and verification.

The policy (SPEC.md, "Passwords") is one for every call that sets a password: 8 to 128
characters, counted as Unicode code points after NFC normalisation (so "日本語" is 3
characters, whatever its UTF-8 length), not among the most common passwords, and not
containing the account's names. /users/register keeps its front ends' 6-character minimum
and refuses the common passwords too (check_express_password).

Hashes (SPEC.md, "Passwords"; docs/production.md, "Password hashes") are

    hmac-sha256-bcrypt$<pepper version>$<bcrypt hash>

bcrypt over the base64 of HMAC-SHA256(pepper, NFC password as UTF-8): 44 ASCII bytes, so
bcrypt's 72-byte limit never cuts a password and it never sees a NUL, and a database leak
alone allows no offline guessing without the pepper (lockbox.signing.account_keys,
PASSWORD_PEPPER, named by its version). Hashes of the earlier scheme (bcrypt over the
password's own UTF-8, `$2b$...`) still verify; a login that matches one stores a new
hash in its own transaction (upgraded_hash).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

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
SCHEME = "hmac-sha256-bcrypt"  # the tag of hashes of the current scheme
_LEGACY_BYTES = 72  # what bcrypt of the earlier scheme could take of a password
# The 10,000 most common passwords of zxcvbn's ranked list (`make common-passwords` writes
# it; a test holds it to the library), one a line, read on the first check.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MIN_EMAIL_WORD_LENGTH = 4  # a shorter local part ("jo@...") would refuse too much
PRODUCT_WORD = "lockbox"
_SPECIAL_CHARACTERS = frozenset(string.punctuation + " ")
MIN_EXPRESS_PASSWORD_LENGTH = 6  # the /users flavour's minimum, at registration and login
TOO_COMMON = "Password is too common"  # the /users flavour's error item, as SPEC.md words it

# Any syntactically valid hash works as the decoy: checking against it costs a full
# bcrypt run at the configured cost, so unknown users take as long as real ones.
_DECOY_SALT_AND_HASH = "lockboxdecoysaltvalue.mSs3Wt0fXhjRSXH5h7wNyFeMNp5aZt6"


class PasswordContext(NamedTuple):
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
    """The 10,000 most common passwords (lower case: the check folds the password)."""
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines())


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
    """POST /users/register's password: its front ends' minimum, the policy's maximum, no
    control characters, and not a common password (messages in its front ends' style)."""
    value = check_express_password_length(value)
    if not is_valid_unicode(value) or password_length(value) > MAX_PASSWORD_LENGTH:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST,
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters long",
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


def _pepper() -> tuple[str, bytes]:
    """The current pepper and its version."""
    # Imported on first use: the secret's reader brings Powertools Parameters.
    from lockbox.signing.account_keys import Purpose, current_key

    pepper = current_key(Purpose.PASSWORD_PEPPER)
    return pepper.version, pepper.key


def _pepper_of(version: str) -> bytes | None:
    from lockbox.signing.account_keys import Purpose, key_version

    return key_version(Purpose.PASSWORD_PEPPER, version)


def _pre_hash(password: str, pepper: bytes) -> bytes | None:
    """What bcrypt hashes: base64 of HMAC-SHA256(pepper, NFC password), 44 ASCII bytes;
    None for a password UTF-8 cannot encode (a lone surrogate)."""
    encoded = password_bytes(_normalized(password))
    if encoded is None:
        return None
    return base64.b64encode(hmac.new(pepper, encoded, hashlib.sha256).digest())


def hash_password(password: str) -> str:
    """A hash of the current scheme at the configured cost; the password must have passed
    the policy."""
    version, pepper = _pepper()
    candidate = _pre_hash(password, pepper)
    if candidate is None:
        raise ValueError("a password must be valid Unicode text to be hashed")
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_cost)
    return f"{SCHEME}${version}${bcrypt.hashpw(candidate, salt).decode('ascii')}"


def password_bytes(password: str) -> bytes | None:
    """The UTF-8 encoding of a password, or None where it has no valid encoding."""
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches the stored hash, of either scheme. Always one bcrypt
    check at the configured cost (against a decoy without a hash, or with one whose pepper
    is unknown), except for a password over MAX_PASSWORD_LENGTH characters: never a match,
    refused without hashing."""
    if password_length(password) > MAX_PASSWORD_LENGTH:
        return False
    candidate, stored = _candidate(password, password_hash)
    matched = bcrypt.checkpw(candidate or b"decoy password", stored or _decoy_hash())
    return matched and candidate is not None and stored is not None


def _candidate(password: str, password_hash: str | None) -> tuple[bytes | None, bytes | None]:
    """What bcrypt checks, and against which bcrypt hash; None for either where no match
    is possible (the check then runs against the decoy, for the same cost)."""
    if password_hash is None:  # an unknown user: the same work as a known one's check
        return _pre_hash(password, _pepper()[1]), None
    scheme, _, rest = password_hash.partition("$")
    if scheme == SCHEME:
        version, _, bcrypt_hash = rest.partition("$")
        pepper = _pepper_of(version)
        if pepper is None:  # a version the secret does not hold: nothing can match
            return None, None
        return _pre_hash(password, pepper), bcrypt_hash.encode("ascii")
    # The earlier scheme: bcrypt over the password's own UTF-8, as it was sent. bcrypt
    # stops at a NUL and ends at 72 bytes, so "secret\0junk" or a longer password
    # sharing its first 72 bytes would match: never.
    encoded = password_bytes(password)
    if encoded is None or len(encoded) > _LEGACY_BYTES or b"\0" in encoded:
        return None, None
    return encoded, password_hash.encode("ascii")


def upgraded_hash(password: str, password_hash: str) -> str | None:
    """A new hash of this password (which just matched `password_hash`) when the stored one
    is of the earlier scheme, an older pepper or another cost; None when it is current."""
    scheme, _, rest = password_hash.partition("$")
    version, _, bcrypt_hash = rest.partition("$")
    cost = bcrypt_hash.split("$")[2:3]
    current = (
        scheme == SCHEME
        and version == _pepper()[0]
        and cost == [f"{get_settings().bcrypt_cost:02d}"]
    )
    return None if current else hash_password(password)


def _decoy_hash() -> bytes:
    return f"$2b${get_settings().bcrypt_cost:02d}${_DECOY_SALT_AND_HASH}".encode("ascii")
