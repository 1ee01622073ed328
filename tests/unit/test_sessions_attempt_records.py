"""The login protection's arithmetic: its clock and the lockout lengths."""

from __future__ import annotations

import time

from lockbox.sessions import attempt_records


def test_the_count_runs_on_unix_milliseconds() -> None:
    """The clock the handler suite stops is the wall clock in milliseconds, as stored in
    `last_attempt`."""
    before = time.time_ns() // 1_000_000
    now = attempt_records._now_ms()
    after = time.time_ns() // 1_000_000

    assert before <= now <= after


def test_lockout_seconds_double_up_to_fifteen_minutes() -> None:
    """Free below five failures; then 1 s, doubling with each failure, at most 900 s."""
    lengths = [attempt_records.lockout_seconds(n) for n in range(4, 17)]

    assert lengths == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
