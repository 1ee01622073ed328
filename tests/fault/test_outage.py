"""A short outage (`make fault` is the long one): DynamoDB Local is stopped in the middle
of a burst of registrations and stores, started again on the same port and data, then
frozen for longer than the functions' read timeout; then frozen twice more while clients
delete keys that never existed, delete keys they stored, and store fresh ones.

Given a local stack on disk and client threads registering and storing continuously
When DynamoDB Local's java gets SIGTERM, stays down two seconds and comes back, and is
later frozen (SIGSTOP) for two and a half seconds
Then every answer is a success or the exact 500 INTERNAL_ERROR envelope, in JSON, within
the function timeout (never a 409 for a store's own retried write); and afterwards every
profile has its markers, every marker its profile, no item is half-written, and every
success is there to read

Given client threads deleting missing keys, deleting stored keys and storing fresh keys
When DynamoDB Local is frozen for 2.4 s (past the 2 s read timeout: botocore retries)
Then a DELETE of a key that never existed answers 404 KEY_NOT_FOUND or 500, never 200; a
DELETE of a stored key answers 200 or 500 and after a 200 the key is gone; a store
answers 200 (and reads back) or 500, never 409
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
        delete_threads=6,
        delete_freezes=2,
        delete_freeze_s=2.4,
    )

    assert report.consistent, "\n".join(report.problems)
    assert report.outage_errors > 0, "no request met the outage"
    assert report.own_write_conflicts == 0
    assert report.succeeded > 0
    assert report.users > 0
    assert report.items > 0
    # The deletes phase met its freezes, and no retry turned a missing key into a 200.
    assert report.delete_freezes == 2
    assert report.missing_key_deletes_in_freeze > 0, "no DELETE of a missing key met a freeze"
    assert report.existing_key_deletes_in_freeze > 0, "no DELETE of a stored key met a freeze"
    assert report.stores_in_delete_freeze > 0, "no store met a freeze"
    assert report.missing_key_deletes_answered_200 == 0
