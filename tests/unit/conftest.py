"""The unit suite: pure layer code, in the functions' environment, no network."""

from __future__ import annotations

import pytest

from tests.support import (  # noqa: F401 (fixtures this suite uses)
    apply_function_environment,
    function_environment,
    jwt_signing_key,
)


def pytest_configure(config: pytest.Config) -> None:
    apply_function_environment()
