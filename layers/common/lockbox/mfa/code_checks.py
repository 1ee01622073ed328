"""Checking a second-factor code against an account's factor, before the write that uses it.

A check here only finds what the code would use: the time step of a TOTP code, or the
stored hash of a recovery code. The use itself is a conditional write on the profile
(lockbox.mfa.mfa_records): a later step than the last accepted one, a hash still in the
set, so that of two requests with one code exactly one succeeds.
"""

from __future__ import annotations

from lockbox.mfa.mfa_state import CodeUse, SecondFactor

# The code checks (pyotp, the cryptography package's AES-GCM) are imported by the first
# check: the calls that may meet a second factor (a login, a password change...) import
# this module, and most accounts have none (about 15 ms of their cold starts).


def checked_code(factor: SecondFactor, user_id: str, code: str) -> CodeUse | None:
    """What this code would use on an account with this factor; None for a wrong code.

    A six-digit code is a TOTP code (one step of drift either way), anything else may be
    a recovery code."""
    if factor.secret is None:
        return None
    from lockbox.mfa import recovery_codes, totp

    if totp.CODE_SHAPE.fullmatch(code):
        step = totp.matching_step(totp.open_secret(factor.secret, user_id), code)
        return None if step is None else CodeUse(step=step)
    used = recovery_codes.stored_hash(code, set(factor.recovery_hashes))
    return None if used is None else CodeUse(recovery_hash=used)


def pending_step(factor: SecondFactor, user_id: str, code: str) -> int | None:
    """The step of a TOTP code of the secret being enrolled (recovery codes do not exist
    yet); None for a wrong code or no setup under way."""
    if factor.pending is None:
        return None
    from lockbox.mfa import totp

    return totp.matching_step(totp.open_secret(factor.pending, user_id), code)
