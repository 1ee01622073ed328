"""Logins and refreshes while DynamoDB Local stalls (`make fault` runs the long version).

Given a local stack and client threads logging in, refreshing their sessions and sending
wrong passwords for names of their own
When DynamoDB Local is frozen twice for 2.4 s (past the functions' 2 s read timeout)
Then every answer is the call's success, its refusal or the 500 envelope; no session that
answered 200 is missing or has lost the token it handed out; no login made two sessions;
every name's attempt count holds each attempt answered 401, and no more than those
plus the ones answered 500; no second-factor code is accepted twice, and no session whose
end answered 200 is revived
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault_sessions import run_session_faults

pytestmark = pytest.mark.fault


def test_sessions_and_counts_survive_stalls(tmp_path: Path) -> None:
    report = run_session_faults(threads=4, freezes=2, freeze_s=2.4, log_path=tmp_path / "log")

    assert report.consistent, "\n".join(report.problems)
    assert report.freezes == 2
    assert report.logins[200] > 0
    assert report.refreshes[200] > 0
    assert report.guesses[401] > 0
    assert report.stalled > 0, "no call met a freeze"
    assert report.mfa_logins[200] > 0
    assert report.session_ends[200] > 0
