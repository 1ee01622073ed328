"""An account's second factor as its items hold it.

On the profile (`USER#`) and on each of its name markers (lockbox.accounts.user_keys), while
the factor is on: `totp_secret` (the sealed secret, lockbox.mfa.totp), `totp_key` (the
account key version it was sealed with) and `recovery_codes` (the string set of the unused
codes' hashes, lockbox.mfa.recovery_codes). The markers carry copies so that a login, whose
first request is the count on its name's marker, learns there whether a code is needed and
can check it without another read. The profile alone holds `totp_last_step` (the time
step of the last accepted code: a code is accepted only for a later step, by a conditional
write) and, between setup and confirmation, `totp_pending` / `totp_pending_key` (the secret
being enrolled); it is the one whose conditions decide.
"""

from __future__ import annotations

from typing import Any, NamedTuple

SECRET = "totp_secret"  # noqa: S105 (attribute names)
SECRET_KEY = "totp_key"  # noqa: S105
RECOVERY_CODES = "recovery_codes"
LAST_STEP = "totp_last_step"
PENDING = "totp_pending"
PENDING_KEY = "totp_pending_key"
# What an account's factor is made of on its markers, removed together to turn it off.
MARKER_ATTRIBUTES = f"{SECRET}, {SECRET_KEY}, {RECOVERY_CODES}"


class SealedSecret(NamedTuple):
    """A TOTP secret as stored: the account key's version and nonce || AES-GCM ciphertext
    (lockbox.mfa.totp)."""

    key_version: str
    sealed: bytes


class SecondFactor(NamedTuple):
    """An item's view of the account's second factor."""

    secret: SealedSecret | None = None  # None: the factor is off
    recovery_hashes: frozenset[str] = frozenset()
    pending: SealedSecret | None = None  # a setup not yet confirmed (profile only)

    @property
    def enabled(self) -> bool:
        return self.secret is not None


def _sealed(item: dict[str, Any], blob: str, version: str) -> SealedSecret | None:
    if "B" not in item.get(blob, {}) or "S" not in item.get(version, {}):
        return None
    return SealedSecret(item[version]["S"], bytes(item[blob]["B"]))


def second_factor(item: dict[str, Any]) -> SecondFactor:
    """The second factor a profile or marker item holds."""
    return SecondFactor(
        secret=_sealed(item, SECRET, SECRET_KEY),
        recovery_hashes=frozenset(item.get(RECOVERY_CODES, {}).get("SS", ())),
        pending=_sealed(item, PENDING, PENDING_KEY),
    )


class CodeUse(NamedTuple):
    """What accepting a code writes (lockbox.mfa.code_checks finds it): a TOTP code's time
    step, or the stored hash of the recovery code it spends."""

    step: int | None = None
    recovery_hash: str | None = None


NO_FACTOR = SecondFactor()  # an account without a second factor


def code_unused(item: dict[str, Any], use: CodeUse) -> bool:
    """Whether a profile item (as a refused write found it) would still accept this use."""
    if use.step is not None:
        return int(item.get(LAST_STEP, {}).get("N", "-1")) < use.step
    return use.recovery_hash in second_factor(item).recovery_hashes
