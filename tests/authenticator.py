"""The test suites' authenticator app: TOTP codes of a secret, as pyotp computes them.

A code is taken for the current 30-second step plus an offset (tests use neighbouring steps
rather than waiting for fresh ones). Taken in a step's last seconds, the server could check
it in the next step, where an offset of -1 is two steps old and refused: so a code is never
taken in the last SAFE_SECONDS of a step; the test waits for the next one instead.
"""

from __future__ import annotations

import time

import pyotp

STEP_SECONDS = 30
SAFE_SECONDS = 3.0


def code(authenticator: pyotp.TOTP, offset: int = 0) -> str:
    """The authenticator's code `offset` steps from now, away from a step's end."""
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < SAFE_SECONDS:
        time.sleep(left + 0.05)
    return authenticator.at(time.time(), counter_offset=offset)
