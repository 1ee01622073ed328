"""The short fault-injection suite: DynamoDB Local killed and restarted under load."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault: DynamoDB Local stopped mid-burst (make fault runs the long version)"
    )
