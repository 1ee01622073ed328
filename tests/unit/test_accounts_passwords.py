"""Password hashing and verification (bcrypt): round trip, constant work, no truncation."""

from __future__ import annotations

from collections.abc import Callable

import bcrypt
import pytest

from lockbox.accounts import passwords
from lockbox.accounts.passwords import hash_password, verify_password
from lockbox.core.settings import get_settings
from lockbox.core.validation import RuleViolation


@pytest.fixture
def checkpw_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record the stored hash of every bcrypt check the module makes (and still run it)."""
    calls: list[bytes] = []
    real: Callable[[bytes, bytes], bool] = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    return calls


def test_hash_then_verify_round_trip() -> None:
    """Given a hashed password, verifying the same password succeeds."""
    stored = hash_password("secure_password123")

    assert verify_password("secure_password123", stored) is True


def test_hash_is_bcrypt_at_the_configured_cost() -> None:
    """Given BCRYPT_COST=4 (tests), the hash is a $2b$ hash of cost 04 and not the password."""
    stored = hash_password("secure_password123")

    assert stored.startswith("$2b$04$")
    assert len(stored) == 60
    assert "secure_password123" not in stored


def test_cost_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given BCRYPT_COST=5, new hashes use cost 05."""
    monkeypatch.setenv("BCRYPT_COST", "5")
    get_settings.cache_clear()

    assert hash_password("secure_password123").startswith("$2b$05$")


def test_each_hash_has_its_own_salt() -> None:
    """Given one password hashed twice, the hashes differ (random salt)."""
    assert hash_password("secure_password123") != hash_password("secure_password123")


def test_unicode_password_round_trip() -> None:
    """Given a non-ASCII password, it hashes and verifies."""
    stored = hash_password("пароль-秘密-🔒")

    assert verify_password("пароль-秘密-🔒", stored) is True


def test_wrong_password_is_false() -> None:
    """Given a different password, verification fails."""
    stored = hash_password("secure_password123")

    assert verify_password("secure_password124", stored) is False


def test_password_check_is_case_sensitive() -> None:
    """Given the password in another case, verification fails."""
    stored = hash_password("secure_password123")

    assert verify_password("SECURE_PASSWORD123", stored) is False


def test_missing_hash_costs_one_bcrypt_check_and_is_false(checkpw_calls: list[bytes]) -> None:
    """Given no stored hash (unknown user), one bcrypt check still runs, at the configured cost."""
    assert verify_password("secure_password123", None) is False
    assert len(checkpw_calls) == 1
    assert checkpw_calls[0].startswith(b"$2b$04$")


def test_known_user_costs_exactly_one_bcrypt_check(checkpw_calls: list[bytes]) -> None:
    """Given a stored hash, verification runs bcrypt once, against that hash."""
    stored = hash_password("secure_password123")

    verify_password("secure_password123", stored)

    assert checkpw_calls == [stored.encode()]


def test_decoy_does_not_match_its_own_placeholder_password() -> None:
    """Given no stored hash, even the decoy's own candidate password cannot log in."""
    assert verify_password("decoy password", None) is False


def test_password_over_72_bytes_is_false_without_raising(checkpw_calls: list[bytes]) -> None:
    """Given 73 bytes whose first 72 match the stored password, False (never truncated)."""
    stored = hash_password("z" * 72)

    assert verify_password("z" * 73, stored) is False
    assert len(checkpw_calls) == 1


def test_multibyte_password_over_72_bytes_is_false() -> None:
    """Given 73 bytes of 2-byte characters extending the stored one, False."""
    stored = hash_password("é" * 36)

    assert verify_password("é" * 36 + "a", stored) is False


def test_password_of_exactly_72_bytes_verifies() -> None:
    """Given a 72-byte password (emoji), it hashes and verifies."""
    stored = hash_password("🔒" * 18)

    assert verify_password("🔒" * 18, stored) is True


def test_lone_surrogate_password_is_false_without_raising(checkpw_calls: list[bytes]) -> None:
    """Given a password UTF-8 cannot encode, False after one decoy check."""
    stored = hash_password("secure_password123")

    assert verify_password("secure\ud800", stored) is False
    assert len(checkpw_calls) == 1


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("secure_password123", None),
        ("short", "Password must be 8 to 128 characters long."),
        ("日本語", "Password must be 8 to 128 characters long."),
        ("x" * 129, "Password must be 8 to 128 characters long."),
        ("password1234", None),  # rank 11,000-odd of zxcvbn's list: past the top 10,000
        ("PassWord", "Password is too common. Please choose a less predictable password."),
        ("a\ud800bcdefgh", "Password must be valid Unicode text."),
    ],
)
def test_policy_reasons(password: str, problem: str | None) -> None:
    """Given a password, the policy gives the documented reason (or none)."""
    assert passwords.password_reason(password) == problem


@pytest.mark.parametrize("password", ["123456", "Password", "QWERTY123"])
def test_express_password_refuses_common_passwords(password: str) -> None:
    """Given a common password (any case) on /users/register, "Password is too common"."""
    with pytest.raises(RuleViolation) as caught:
        passwords.check_express_password(password)

    assert caught.value.reason == "Password is too common"


def test_express_password_keeps_its_six_character_minimum() -> None:
    """Given 6 uncommon characters on /users/register, the password is accepted."""
    assert passwords.check_express_password("kq7#vz") == "kq7#vz"


def test_context_words_are_compared_after_nfc_and_case_folding() -> None:
    """Given an email local part typed decomposed (NFD) and a password holding it composed
    and upper-cased, the password is refused."""
    context = passwords.PasswordContext(email="jose\u0301phine@example.com")

    reason = passwords.password_reason("my-JOS\u00c9PHINE-secret", context)

    assert reason == "Password must not contain the email address's name."
