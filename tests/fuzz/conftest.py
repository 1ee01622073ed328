"""The short fuzz suite: schemathesis against a local stack this suite starts itself."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: schemathesis against a local stack (make fuzz runs the long version)"
    )
