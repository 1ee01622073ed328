"""The handler suite: handlers fed with events/ files, against moto tables."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import (  # noqa: F401 (fixtures this suite uses)
    apply_function_environment,
    aws_tables,
    count_dynamodb_requests,
    forbid_dynamodb_requests,
    function_environment,
    jwt_signing_key,
    lambda_context,
)

if TYPE_CHECKING:
    from tests.handlers.sessions import LoginClock


def pytest_configure(config: pytest.Config) -> None:
    apply_function_environment()


@pytest.fixture
def no_dynamodb() -> None:
    """For requests refused before storage: any request to DynamoDB fails the call (a 500).

    Cheaper than moto, and it checks that validation happens before any request to
    DynamoDB. Nothing can reach AWS either.
    """
    forbid_dynamodb_requests()


@pytest.fixture(autouse=True)
def login_clock(monkeypatch: pytest.MonkeyPatch) -> LoginClock:
    """Every handler test counts logins on a stopped clock, so that a 1 s lockout cannot
    run out while the machine pauses between a failure and the next call."""
    from lockbox.sessions import attempt_records
    from tests.handlers.sessions import LoginClock

    stopped = LoginClock()
    monkeypatch.setattr(attempt_records, "_now_ms", lambda: stopped.now_ms)
    return stopped


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the data layer's clock (Unix seconds), starting at items.NOW."""
    from lockbox.items import item_records
    from tests.handlers.items import NOW

    current = [NOW]
    monkeypatch.setattr(item_records, "_epoch", lambda: current[0])
    monkeypatch.setattr(item_records, "_expiry", lambda ttl: current[0] + ttl)

    def set_to(seconds: int) -> None:
        current[0] = seconds

    return set_to


@pytest.fixture
def dynamodb_requests() -> Counter[str]:
    """DynamoDB requests the functions make during the test, by operation."""
    return count_dynamodb_requests()


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each moto DynamoDB request runs alone, as each DynamoDB request is atomic in AWS.

    moto 5.2.5 is not safe for concurrent requests: TransactWriteItems deep-copies the
    table for rollback while other threads write to it ("RuntimeError: dictionary changed
    size during iteration", moto/dynamodb/models/__init__.py:613), checks conditions and
    writes in separate steps, and rolls back by restoring that copy over other threads'
    committed writes. Tests that fire simultaneous requests need this fixture; the client
    side (handlers, bcrypt, botocore) still runs concurrently.

    Powertools' metrics object is shared by every handler of the process, and Lambda never
    runs two invocations in one: here a metric is added or the set flushed one thread at a
    time (else one call's flush can empty the set another is serializing).
    """
    from moto.dynamodb.responses import DynamoHandler

    from lockbox.core.observability import metrics

    lock = threading.Lock()
    handle = DynamoHandler.call_action

    def one_at_a_time(self: DynamoHandler) -> Any:
        with lock:
            return handle(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)
    metrics_lock = threading.RLock()
    for name in ("add_metric", "flush_metrics"):
        method = getattr(metrics, name)

        def locked(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with metrics_lock:
                return _method(*args, **kwargs)

        monkeypatch.setattr(metrics, name, locked)


@pytest.fixture
def user_id(aws_tables: Any, lambda_context: Any) -> str:  # noqa: F811 (fixtures, imported above)
    """The id of the account of events/register_success.json, registered in moto."""
    from tests.handlers.accounts import register

    status, body = register(lambda_context)
    assert status == 200
    return str(body["data"]["user_id"])
