"""The second factor's pure parts: TOTP codes with one step of drift, sealed secrets and
recovery codes, under account keys given by the test (no Secrets Manager)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
from collections import Counter

import pyotp
import pytest

from lockbox.mfa import code_checks, recovery_codes, totp
from lockbox.mfa.mfa_state import SecondFactor
from lockbox.signing.account_keys import DerivedKey, Purpose

NOW = 1_796_000_000.0  # a fixed instant, 20 s into its 30 s step
KEYS = {"v1": hashlib.sha256(b"key one").digest(), "v2": hashlib.sha256(b"key two").digest()}


@pytest.fixture(autouse=True)
def account_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Account keys of the test: `current["version"]` names the current one."""
    current = {"version": "v1"}

    def current_key(purpose: Purpose) -> DerivedKey:
        assert purpose is Purpose.TOTP_SECRET
        return DerivedKey(current["version"], KEYS[current["version"]])

    def key_version(purpose: Purpose, version: str) -> bytes | None:
        assert purpose is Purpose.TOTP_SECRET
        return KEYS.get(version)

    for module in (totp, recovery_codes):
        monkeypatch.setattr(module, "current_key", current_key)
        monkeypatch.setattr(module, "key_version", key_version)
    return current


@pytest.mark.parametrize(
    "secret",
    [
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",  # 160 bits, as new_secret makes them
        base64.b32encode(bytes(range(20))).decode(),  # leading zero bits
        base64.b32encode(b"\xff" * 35).decode(),  # 280 bits, every bit set
        "JBSWY3DPEHPK3PXPJBSWY3DP",  # 120 bits: the shortest whole groups pyotp takes
        "jbswy3dpehpk3pxpjbswy3dpehpk3pxp",  # lower case: pyotp's own decoding
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX",  # not whole 40-bit groups: pyotp's own decoding
    ],
)
def test_a_secret_decodes_to_what_pyotp_decodes(secret: str) -> None:
    """Given a base32 secret, when the code check decodes it, then it has pyotp's bytes."""
    assert totp._Totp(secret).byte_secret() == pyotp.TOTP(secret).byte_secret()


@pytest.mark.parametrize("at", [0.0, 29.9, 30.0, NOW, 2**32 * 30.0])
def test_a_code_is_the_one_pyotp_computes(at: float) -> None:
    """Given a moment (counter 0, a step's edges, a counter of five bytes), the code check
    computes pyotp's own code for it."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

    assert totp._Totp(secret).at(at) == pyotp.TOTP(secret).at(at)


def test_a_secret_shorter_than_pyotps_minimum_is_refused_as_pyotp_refuses_it() -> None:
    """Given 80 bits of secret in whole groups, the check refuses it as pyotp does."""
    with pytest.raises(ValueError, match="at least 112 bits"):
        totp._Totp("JBSWY3DPEHPK3PXP")


def test_a_new_secret_is_unpadded_base32_of_160_bits() -> None:
    """Given a new secret, it is 32 base32 characters without padding: 160 bits."""
    secret = totp.new_secret()

    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20


def test_the_uri_names_the_issuer_and_the_account() -> None:
    """Given a secret and a name, the otpauth URI carries both and the issuer Lockbox."""
    uri = totp.otpauth_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "johndoe")

    parsed = pyotp.parse_uri(uri)
    assert (parsed.name, parsed.issuer, parsed.interval, parsed.digits) == (
        "johndoe",
        "Lockbox",
        30,
        6,
    )


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_match_their_own_step(offset: int) -> None:
    """Given the codes of the previous, current and next steps, each matches its step."""
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(NOW, counter_offset=offset)

    assert totp.matching_step(secret, code, NOW) == totp.current_step(NOW) + offset


@pytest.mark.parametrize("offset", [-2, 2])
def test_codes_two_steps_away_do_not_match(offset: int) -> None:
    """Given a code two steps from now, it matches no step."""
    secret = totp.new_secret()

    assert (
        totp.matching_step(secret, pyotp.TOTP(secret).at(NOW, counter_offset=offset), NOW) is None
    )


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "١٢٣٤٥٦", " 123456"])
def test_text_that_is_no_six_digit_code_matches_nothing(code: str) -> None:
    """Given text that is not six ASCII digits, no step matches (and nothing raises)."""
    assert totp.matching_step(totp.new_secret(), code, NOW) is None


def test_a_sealed_secret_opens_for_its_account_only() -> None:
    """Given a sealed secret, it opens for its account; for another account, or once a
    byte is changed, it does not."""
    sealed = totp.seal_secret("JBSWY3DPEHPK3PXP", "user-1")
    tampered = copy.replace(sealed, sealed=sealed.sealed[:-1] + bytes([sealed.sealed[-1] ^ 1]))

    assert b"JBSWY3DPEHPK3PXP" not in sealed.sealed
    assert totp.open_secret(sealed, "user-1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(totp.SecretUnreadableError):
        totp.open_secret(sealed, "user-2")
    with pytest.raises(totp.SecretUnreadableError):
        totp.open_secret(tampered, "user-1")


def test_a_secret_sealed_before_a_key_rotation_still_opens(account_keys: dict[str, str]) -> None:
    """Given a secret sealed under v1, then v2 made current, it still opens (by its
    version); an unknown version does not."""
    sealed = totp.seal_secret("JBSWY3DPEHPK3PXP", "user-1")
    account_keys["version"] = "v2"

    assert sealed.key_version == "v1"
    assert totp.open_secret(sealed, "user-1") == "JBSWY3DPEHPK3PXP"
    assert totp.seal_secret("JBSWY3DPEHPK3PXP", "user-1").key_version == "v2"
    with pytest.raises(totp.SecretUnreadableError):
        totp.open_secret(copy.replace(sealed, key_version="v9"), "user-1")


def test_ten_recovery_codes_of_80_bits() -> None:
    """Given new codes, there are ten distinct ones of sixteen base32 characters, shown in
    four groups of four."""
    codes = recovery_codes.new_codes()

    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}(?:-[a-z2-7]{4}){3}", code) for code in codes)
    assert all(recovery_codes.normalized(code) for code in codes)
    assert all(len(code.replace("-", "")) == 16 for code in codes)


def test_recovery_code_characters_cover_base32_alike() -> None:
    """Given 2,000 new codes (320,000 characters), each of the 32 base32 characters
    appears, about equally often (each 1/32: 10,000 expected, far from the bounds), and
    nothing else does."""
    counts = Counter(
        character
        for _ in range(2000)
        for code in recovery_codes.new_codes()
        for character in code.replace("-", "")
    )

    assert set(counts) == set("abcdefghijklmnopqrstuvwxyz234567")
    assert all(9000 < count < 11000 for count in counts.values())


def test_a_recovery_code_hash_is_the_keyed_hash_stored_before() -> None:
    """Given a code, its stored hash is `<version>:` and the hex HMAC-SHA256 of the code
    under HMAC-SHA256(account key, label): the form stored codes already have."""
    code = "abcd-efgh-ijkl-mnop"
    derived = hmac.digest(KEYS["v1"], b"lockbox recovery codes", "sha256")
    expected = hmac.digest(derived, b"abcdefghijklmnop", "sha256").hex()

    assert recovery_codes.code_hashes([code]) == [f"v1:{expected}"]
    assert recovery_codes.stored_hash(code, {f"v1:{expected}"}) == f"v1:{expected}"


def test_a_recovery_code_matches_its_hash_however_typed(account_keys: dict[str, str]) -> None:
    """Given the hashes of ten codes (then a key rotation), a code matches its own hash in
    capitals, with spaces or dashes; another code matches none; no hash holds its code."""
    codes = recovery_codes.new_codes()
    hashes = recovery_codes.code_hashes(codes)
    account_keys["version"] = "v2"
    typed = codes[2].upper().replace("-", " ")

    assert recovery_codes.stored_hash(typed, set(hashes)) == hashes[2]
    assert recovery_codes.stored_hash(recovery_codes.new_codes()[0], set(hashes)) is None
    assert not any(code.replace("-", "") in stored for code in codes for stored in hashes)


def test_checked_code_tells_totp_codes_from_recovery_codes() -> None:
    """Given a factor, a current TOTP code uses its step, a recovery code its hash, and a
    wrong code nothing; a factor that is off accepts nothing."""
    secret = totp.new_secret()
    codes = recovery_codes.new_codes()
    factor = SecondFactor(
        secret=totp.seal_secret(secret, "user-1"),
        recovery_hashes=frozenset(recovery_codes.code_hashes(codes)),
    )

    by_totp = code_checks.checked_code(factor, "user-1", pyotp.TOTP(secret).now())
    by_recovery = code_checks.checked_code(factor, "user-1", codes[0])

    assert by_totp is not None
    assert by_totp.step == totp.current_step()
    assert by_recovery is not None
    assert by_recovery.recovery_hash in factor.recovery_hashes
    assert code_checks.checked_code(factor, "user-1", "not a code") is None
    assert code_checks.checked_code(SecondFactor(), "user-1", codes[0]) is None


def test_new_secrets_differ() -> None:
    """Given many new secrets, no two are alike (160 bits from the OS's randomness each)."""
    secrets = {totp.new_secret() for _ in range(1000)}

    assert len(secrets) == 1000
