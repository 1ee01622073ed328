"""The handler suite: handlers fed with events/ files, against moto tables."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support import (  # noqa: F401 (fixtures this suite uses)
    apply_function_environment,
    aws_tables,
    function_environment,
    jwt_signing_key,
    lambda_context,
    secrets_extension,
)


def pytest_configure(config: pytest.Config) -> None:
    apply_function_environment()


@pytest.fixture
def no_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """For requests refused before storage: any use of DynamoDB fails the call (a 500).

    Cheaper than moto, and it checks that validation happens before any request to
    DynamoDB. Nothing can reach AWS either.
    """
    from lockbox import item_table, user_table

    def forbidden(*_: Any, **__: Any) -> Any:
        raise AssertionError("this request must be refused before it reaches DynamoDB")

    monkeypatch.setattr(user_table, "dynamodb", forbidden)
    monkeypatch.setattr(item_table, "dynamodb", forbidden)


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each moto DynamoDB request runs alone, as each DynamoDB request is atomic in AWS.

    moto 5.2.5 is not safe for concurrent requests: TransactWriteItems deep-copies the
    table for rollback while other threads write to it ("RuntimeError: dictionary changed
    size during iteration", moto/dynamodb/models/__init__.py:613), checks conditions and
    writes in separate steps, and rolls back by restoring that copy over other threads'
    committed writes. Tests that fire simultaneous requests need this fixture; the client
    side (handlers, bcrypt, botocore) still runs concurrently.
    """
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    handle = DynamoHandler.call_action

    def one_at_a_time(self: DynamoHandler) -> Any:
        with lock:
            return handle(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)
