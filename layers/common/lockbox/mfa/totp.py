"""TOTP codes (RFC 6238 through pyotp: SHA-1, 6 digits, 30 s steps) and the sealing of
their secrets.

A secret is stored sealed with AES-GCM under the account key for TOTP secrets
(lockbox.signing.account_keys, kept in Secrets Manager), so that a copy of the table alone
does not give anyone's codes. The sealed form names the key version it was sealed with, so
secrets sealed before a key rotation still open. The user id is the AES-GCM associated
data: a sealed secret copied onto another account does not open there.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
import time
from functools import cached_property

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lockbox.mfa.mfa_state import SealedSecret
from lockbox.signing.account_keys import Purpose, current_key, key_version

ISSUER = "Lockbox"  # the name an authenticator app shows above the account
DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1  # one step of clock drift either way
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommended length
_NONCE_BYTES = 12
CODE_SHAPE = re.compile(r"[0-9]{6}")


class SecretUnreadableError(Exception):
    """A sealed secret that no known key opens (a key version retired, or tampering)."""


def new_secret() -> str:
    """A fresh secret: 160 random bits in unpadded base32, as authenticator apps take it.

    The bits come from one read of the OS's randomness (20 bytes are exactly 32 base32
    characters); pyotp.random_base32 draws each character apart, a third of a setup's
    warm time."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


# RFC 4648's base32 alphabet onto int()'s base-32 digits: a secret of whole 40-bit groups
# (new_secret makes four) decodes with one int() call; base64.b32decode is pure Python.
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_AS_INT_DIGITS = str.maketrans(_BASE32, "0123456789abcdefghijklmnopqrstuv")
_WHOLE_GROUPS = re.compile(f"(?:[{_BASE32}]{{8}}){{3,}}")  # 120 bits or more: pyotp's minimum


class _Totp(pyotp.TOTP):
    """pyotp's TOTP with its secret decoded once: pyotp decodes the base32 text (in pure
    Python) for every code, and a check computes three."""

    @cached_property
    def _decoded(self) -> bytes:
        if _WHOLE_GROUPS.fullmatch(self.secret):
            number = int(self.secret.translate(_AS_INT_DIGITS), 32)
            return number.to_bytes(len(self.secret) * 5 // 8, "big")
        return super().byte_secret()

    def byte_secret(self) -> bytes:
        return self._decoded

    @staticmethod
    def int_to_bytestring(i: int, *, padding: int = 8) -> bytes:
        # pyotp's byte-by-byte loop, as one call: the counter in `padding` big-endian bytes.
        return i.to_bytes(padding, "big")


def otpauth_uri(secret: str, account_name: str) -> str:
    """The otpauth:// URI an authenticator app scans (as a QR code) to enrol."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def current_step(now: float | None = None) -> int:
    """The RFC 6238 time step of `now` (default: the clock)."""
    return int((time.time() if now is None else now) // STEP_SECONDS)


# The steps a code may be of, nearest first: a code is nearly always the current step's,
# so one code is computed, not three (pyotp computes each in about 3 µs).
_OFFSETS = sorted(range(-DRIFT_STEPS, DRIFT_STEPS + 1), key=abs)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code `code` is, within one step of drift of now; None when it
    is none of them. Each candidate is compared in constant time; a wrong code is
    compared with all of them."""
    if not CODE_SHAPE.fullmatch(code):
        return None
    totp = _Totp(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    for offset in _OFFSETS:
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def seal_secret(secret: str, user_id: str) -> SealedSecret:
    """The secret sealed under the current TOTP key, bound to its account."""
    key = current_key(Purpose.TOTP_SECRET)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key.key).encrypt(nonce, secret.encode("ascii"), user_id.encode("utf-8"))
    return SealedSecret(key.version, nonce + sealed)


def open_secret(sealed: SealedSecret, user_id: str) -> str:
    """The secret a SealedSecret holds; SecretUnreadableError if no known key opens it."""
    key = key_version(Purpose.TOTP_SECRET, sealed.key_version)
    if key is None:
        raise SecretUnreadableError(f"unknown TOTP key version {sealed.key_version}")
    nonce, ciphertext = sealed.sealed[:_NONCE_BYTES], sealed.sealed[_NONCE_BYTES:]
    try:
        secret = AESGCM(key).decrypt(nonce, ciphertext, user_id.encode("utf-8"))
    except InvalidTag:
        raise SecretUnreadableError("the sealed secret does not open") from None
    return secret.decode("ascii")
