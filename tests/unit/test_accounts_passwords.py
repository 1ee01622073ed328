"""Password policy, hashing and verification: the peppered pre-hash under bcrypt, its tag,
constant work, no truncation, legacy hashes verified and upgraded."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import bcrypt
import pytest

from lockbox.accounts import passwords
from lockbox.accounts.passwords import COMMON_PASSWORDS_FILE, hash_password, verify_password
from lockbox.core.settings import get_settings
from lockbox.core.validation import RuleViolation
from lockbox.signing import account_keys

pytestmark = pytest.mark.usefixtures("function_environment")  # the pepper's secret, in moto


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


def legacy_hash(password: str) -> str:
    """A hash as the earlier scheme stored it: bcrypt over the password's own UTF-8."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def test_hash_then_verify_round_trip() -> None:
    """Given a hashed password, verifying the same password succeeds."""
    stored = hash_password("secure_password123")

    assert verify_password("secure_password123", stored) is True


def test_hash_names_its_scheme_and_pepper_version() -> None:
    """Given BCRYPT_COST=4 (tests) and pepper number 1, the hash is
    `hmac-sha256-bcrypt$1$` then a $2b$ hash of cost 04, without the password."""
    stored = hash_password("secure_password123")

    scheme, version, bcrypt_hash = stored.split("$", 2)
    assert (scheme, version) == ("hmac-sha256-bcrypt", "1")
    assert bcrypt_hash.startswith("$2b$04$")
    assert len(bcrypt_hash) == 60
    assert "secure_password123" not in stored


def test_bcrypt_hashes_the_peppered_pre_hash_not_the_password() -> None:
    """Given a hash, bcrypt of the password itself does not match it, while bcrypt of
    base64(HMAC-SHA256(pepper 1, password)) does: a leak without the pepper is useless."""
    stored = hash_password("secure_password123").split("$", 2)[2].encode()
    pepper = account_keys.key_version(account_keys.Purpose.PASSWORD_PEPPER, "1")
    assert pepper is not None
    mac = hmac.new(pepper, b"secure_password123", hashlib.sha256).digest()

    assert bcrypt.checkpw(base64.b64encode(mac), stored) is True
    assert bcrypt.checkpw(b"secure_password123", stored) is False


def test_cost_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given BCRYPT_COST=5, new hashes use cost 05."""
    monkeypatch.setenv("BCRYPT_COST", "5")
    get_settings.cache_clear()

    assert "$$2b$05$" in hash_password("secure_password123")


def test_each_hash_has_its_own_salt() -> None:
    """Given one password hashed twice, the hashes differ (random salt)."""
    assert hash_password("secure_password123") != hash_password("secure_password123")


def test_unicode_password_round_trip() -> None:
    """Given a non-ASCII password, it hashes and verifies."""
    stored = hash_password("пароль-秘密-🔒")

    assert verify_password("пароль-秘密-🔒", stored) is True


def test_password_is_hashed_after_nfc() -> None:
    """Given a password set with a decomposed é (NFD), the composed spelling logs in."""
    stored = hash_password("cafe\u0301-au-lait")

    assert verify_password("caf\u00e9-au-lait", stored) is True


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
    """Given a stored hash, verification runs bcrypt once, against its bcrypt part."""
    stored = hash_password("secure_password123")

    verify_password("secure_password123", stored)

    assert checkpw_calls == [stored.split("$", 2)[2].encode()]


def test_decoy_does_not_match_its_own_placeholder_password() -> None:
    """Given no stored hash, even the decoy's own candidate password cannot log in."""
    assert verify_password("decoy password", None) is False


def test_long_password_is_never_cut_at_72_bytes() -> None:
    """Given a 100-character password, it verifies while its first 72 bytes do not."""
    password = "long-passphrase-" * 6 + "!!!!"
    stored = hash_password(password)

    assert len(password) == 100
    assert verify_password(password, stored) is True
    assert verify_password(password[:72], stored) is False


def test_password_of_128_emoji_verifies() -> None:
    """Given 128 emoji (512 bytes), it hashes and verifies."""
    stored = hash_password("🔒" * 128)

    assert verify_password("🔒" * 128, stored) is True


def test_password_over_128_characters_is_false_without_hashing(
    checkpw_calls: list[bytes],
) -> None:
    """Given 129 characters, False without any bcrypt check."""
    stored = hash_password("x" * 128)

    assert verify_password("x" * 129, stored) is False
    assert checkpw_calls == []


def test_lone_surrogate_password_is_false_without_raising(checkpw_calls: list[bytes]) -> None:
    """Given a password UTF-8 cannot encode, False after one decoy check."""
    stored = hash_password("secure_password123")

    assert verify_password("secure\ud800", stored) is False
    assert len(checkpw_calls) == 1


def test_unknown_pepper_version_is_false_after_a_decoy_check(checkpw_calls: list[bytes]) -> None:
    """Given a hash naming a pepper number the secret lacks, False after one decoy check."""
    stored = hash_password("secure_password123").replace("$1$", "$9$", 1)

    assert verify_password("secure_password123", stored) is False
    assert len(checkpw_calls) == 1


def test_legacy_hash_verifies_its_password() -> None:
    """Given a plain bcrypt hash of the earlier scheme, its password verifies."""
    assert verify_password("secure_password123", legacy_hash("secure_password123")) is True


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param("z" * 72 + "tail", id="beyond-72-bytes"),
        pytest.param("z" * 72 + "\0", id="nul-after-72"),
    ],
)
def test_legacy_hash_never_matches_past_its_limits(attempt: str) -> None:
    """Given a legacy hash of 72 bytes, a longer password sharing them does not match."""
    assert verify_password(attempt, legacy_hash("z" * 72)) is False


def test_legacy_hash_never_matches_past_a_nul() -> None:
    """Given a legacy hash of "secret-pass", "secret-pass\0junk" does not match."""
    assert verify_password("secret-pass\0junk", legacy_hash("secret-pass")) is False


def test_legacy_hash_is_upgraded() -> None:
    """Given a legacy hash that matched, upgraded_hash is a current one of that password."""
    new_hash = passwords.upgraded_hash("secure_password123", legacy_hash("secure_password123"))

    assert new_hash is not None
    assert new_hash.startswith("hmac-sha256-bcrypt$1$$2b$04$")
    assert verify_password("secure_password123", new_hash) is True


def test_current_hash_is_not_upgraded() -> None:
    """Given a hash of the current scheme, pepper and cost, no upgrade."""
    assert (
        passwords.upgraded_hash("secure_password123", hash_password("secure_password123")) is None
    )


def test_hash_of_another_cost_is_upgraded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a current-scheme hash of cost 04 and BCRYPT_COST=5, an upgrade to cost 05."""
    stored = hash_password("secure_password123")
    monkeypatch.setenv("BCRYPT_COST", "5")
    get_settings.cache_clear()

    new_hash = passwords.upgraded_hash("secure_password123", stored)

    assert new_hash is not None
    assert "$$2b$05$" in new_hash


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


def test_the_common_password_list_is_the_top_of_zxcvbns_ranked_list() -> None:
    """Given zxcvbn's ranked list of passwords, the layer's file holds exactly its 10,000
    most common, in rank order (else: `make common-passwords`)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    written = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()

    assert written == FREQUENCY_LISTS["passwords"][:10_000]
