"""A short outage (`make fault` is the long one): DynamoDB Local is stopped in the middle
of a burst of registrations and stores, started again on the same port and data, then
frozen for longer than the functions' read timeout.

Given a local stack on disk and client threads registering and storing continuously
When DynamoDB Local's java gets SIGTERM, stays down two seconds and comes back, and is
later frozen (SIGSTOP) for two and a half seconds
Then every answer is a success or the exact 500 INTERNAL_ERROR envelope, in JSON, within
the function timeout (never a 409 for a store's own retried write); and afterwards every
profile has its markers, every marker its profile, no item is half-written, and every
success is there to read
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault import run_fault

pytestmark = pytest.mark.fault


def test_outage_answers_500_envelopes_and_leaves_consistent_data(tmp_path: Path) -> None:
    report = run_fault(
        threads=4,
        before_s=2.0,
        outage_s=2.0,
        freeze_s=2.5,
        after_s=1.5,
        work_dir=tmp_path,
        log_path=tmp_path / "stack.log",
    )

    assert report.consistent, "\n".join(report.problems)
    assert report.outage_errors > 0, "no request met the outage"
    assert report.own_write_conflicts == 0
    assert report.succeeded > 0
    assert report.users > 0
    assert report.items > 0
