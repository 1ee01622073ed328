"""The line that ends every run with end-to-end tests: how many ran, against what.

It lives here, not in tests/e2e/conftest.py, because pytest-xdist's controller, which
prints the summary, collects nothing and so never loads a conftest below the paths it
was given; the workers' reports reach it with their `e2e` marker.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

_outcomes: Counter[str] = Counter()
_teardown_errors: set[str] = set()  # node ids


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "e2e" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes[report.outcome] += 1
    elif report.when == "teardown" and report.failed:
        _teardown_errors.add(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    ran = sum(_outcomes.values())
    if not ran:
        return
    deployed = os.environ.get("API_URL", "").strip()
    if deployed:
        where = deployed
    elif getattr(terminalreporter.config.option, "numprocesses", None):
        where = "a local stack per xdist worker (python -m lockbox_local)"
    else:
        where = "a local stack started by the suite (python -m lockbox_local)"
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(_outcomes.items()))
    if _teardown_errors:
        counts += f"; {len(_teardown_errors)} with an error at teardown"
    terminalreporter.write_sep("-", f"e2e tests run: {ran} against {where} ({counts})")
