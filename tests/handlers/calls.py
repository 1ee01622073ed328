"""Calls of the handler suite: each function's handler by its key (its folder under
functions/), invoked and read back, and the contract's error bodies. The helpers of each
resource build on these: items.py, accounts.py, sessions.py."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.responses import error_body
from lockbox_local.events import load_event
from tests.support import running_function

Handler = Callable[[dict[str, Any], Any], Any]


def handler(key: str) -> Handler:
    """The Lambda handler of a function, by its key: functions.<key>.app.lambda_handler,
    run under its template policy (tests.support.running_function)."""
    function: Handler = importlib.import_module(f"functions.{key}.app").lambda_handler

    def run(event: dict[str, Any], context: Any) -> Any:
        with running_function(key):
            return function(event, context)

    return run


class Answer(tuple[int, Any]):
    """A proxy response read back: (status, JSON body), with its headers as `.headers`."""

    headers: dict[str, str]

    def __new__(cls, status: int, body: Any, headers: dict[str, str]) -> Answer:
        answer = super().__new__(cls, (status, body))
        answer.headers = headers
        return answer


def answer(function: Handler, event: dict[str, Any], context: Any) -> Answer:
    """Invoke a REST handler; every answer must be a JSON proxy response."""
    response = function(event, context)
    assert set(response) == {"statusCode", "headers", "body"}
    assert response["headers"]["Content-Type"] == "application/json"
    return Answer(int(response["statusCode"]), json.loads(response["body"]), response["headers"])


def call(function: Handler, event: dict[str, Any], context: Any) -> Answer:
    """Invoke a REST handler of the /api routes: a JSON proxy response in the envelope."""
    result = answer(function, event, context)
    status, body = result
    assert body["status"] == ("success" if status == 200 else "error")
    return result


def error(code: ErrorCode) -> tuple[int, dict[str, Any]]:
    """The exact status and body (without details) of an error code."""
    return code.status, error_body(code)


def without_details(result: tuple[int, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    status, body = result
    return status, {name: value for name, value in body.items() if name != "details"}


def with_body(name: str, body: object) -> dict[str, Any]:
    """An events/ file with another body (a str is used as the raw body text)."""
    event = load_event(name)
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    return event


def with_user(event: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The event as the authorizer would hand it over for this user."""
    event["requestContext"]["authorizer"] = {
        "user_id": user_id,
        "principalId": user_id,
        "integrationLatency": 12,
    }
    return event


def on_first_call(
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    first: Callable[[Callable[..., Any], dict[str, Any]], Any],
) -> list[dict[str, Any]]:
    """Make the next call of an operation of the DynamoDB client (moto's) go through
    `first(real_operation, arguments)` instead; the calls after it go through as they are.
    Returns the list of calls made, in order."""
    client = dynamodb.client()
    real = getattr(client, operation)
    calls: list[dict[str, Any]] = []

    def first_differs(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return first(real, kwargs) if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(client, operation, first_differs)
    return calls


def conflict_once(
    monkeypatch: pytest.MonkeyPatch, operation: str, reasons: list[str]
) -> list[dict[str, Any]]:
    """Make the next call of a transaction operation of the DynamoDB client be cancelled
    for a TransactionConflict, with these cancellation reason codes; the calls after it go
    through. Returns the list of calls made, in order."""
    name = "".join(part.title() for part in operation.split("_"))

    def cancelled(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": code} for code in reasons],
            },
            name,
        )

    return on_first_call(monkeypatch, operation, cancelled)


def meanwhile(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, action: Callable[[], None]
) -> None:
    """Run `action` once, right after the next call of `module.name` returns: what a
    concurrent request does between this call's check and its write."""
    real = getattr(module, name)

    def then(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        monkeypatch.setattr(module, name, real)
        action()
        return result

    monkeypatch.setattr(module, name, then)


def assert_ok(result: Answer) -> None:
    """A call that must have succeeded (a concurrent request's, in a race)."""
    assert result[0] == 200, result
