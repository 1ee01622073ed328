"""Helpers of the handler suite: events from events/, calls, and the contract's error bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from functions.authorizer.app import lambda_handler as authorizer_handler
from functions.change_password.app import lambda_handler as password_handler
from functions.delete_account.app import lambda_handler as delete_account_handler
from functions.delete_item.app import lambda_handler as delete_handler
from functions.get_account.app import lambda_handler as account_handler
from functions.get_item.app import lambda_handler as get_handler
from functions.list_items.app import lambda_handler as list_handler
from functions.logout.app import lambda_handler as logout_handler
from functions.purge_items.app import lambda_handler as purge_handler
from functions.register.app import lambda_handler as register_handler
from functions.store_item.app import lambda_handler as store_handler
from functions.token.app import lambda_handler as token_handler
from functions.token_refresh.app import lambda_handler as refresh_handler
from functions.update_item.app import lambda_handler as update_handler
from functions.users_login.app import lambda_handler as users_login_handler
from functions.users_logout.app import lambda_handler as users_logout_handler
from functions.users_profile.app import lambda_handler as users_profile_handler
from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.responses import error_body
from lockbox_local.events import load_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

__all__ = [
    "USER",
    "Handler",
    "account_handler",
    "as_caller",
    "authorized",
    "authorizer_handler",
    "call",
    "conflict_once",
    "delete_account_handler",
    "delete_handler",
    "error",
    "event_for_key",
    "get_handler",
    "list_handler",
    "load_event",
    "logout_handler",
    "password_handler",
    "purge_handler",
    "refresh_handler",
    "register",
    "register_handler",
    "store_handler",
    "token",
    "token_handler",
    "update_handler",
    "users_login_handler",
    "users_logout_handler",
    "users_profile_handler",
    "with_body",
    "with_user",
    "without_details",
]

# The account of events/register_success.json.
USER: dict[str, Any] = {
    "username": "johndoe",
    "email": "john.doe@example.com",
    "password": "secure_password123",
    "full_name": "John Doe",
    "age": 30,
    "gender": "male",
}


def call(handler: Handler, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    """Invoke a REST handler; every answer must be a JSON proxy response in the envelope."""
    response = handler(event, context)
    assert set(response) == {"statusCode", "headers", "body"}
    assert response["headers"]["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(response["body"])
    assert body["status"] == ("success" if response["statusCode"] == 200 else "error")
    return int(response["statusCode"]), body


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


def event_for_key(name: str, key: str, user_id: str | None = None) -> dict[str, Any]:
    """A /api/data/{key} event: the path percent-encoded, pathParameters decoded once."""
    event = load_event(name)
    event["pathParameters"] = {"key": key}
    event["path"] = "/api/data/" + quote(key, safe="")
    event["requestContext"]["path"] = "/dev" + event["path"]
    return with_user(event, user_id) if user_id else event


def register(context: Any, **changes: Any) -> tuple[int, dict[str, Any]]:
    return call(register_handler, with_body("register_success", {**USER, **changes}), context)


def token(context: Any, username: str, password: str) -> tuple[int, dict[str, Any]]:
    body = {"username": username, "password": password}
    return call(token_handler, with_body("token_success", body), context)


# A method ARN of the API's stage: the authorizer's policy covers every route of it.
STAGE_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/api/account"


def authorized(context: Any, access_token: str) -> dict[str, Any] | None:
    """The authorizer's context for this token, or None when it refuses it."""
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {access_token}",
        "methodArn": STAGE_ARN,
    }
    try:
        answer: dict[str, Any] = authorizer_handler(event, context)
    except Exception as refused:
        if str(refused) != "Unauthorized":
            raise
        return None
    return answer["context"]


def as_caller(name: str, access_token: str, context: Any, body: object = ...) -> dict[str, Any]:
    """An events/ file as API Gateway hands it over once the authorizer accepted the token."""
    event = load_event(name)
    if body is not ...:
        event["body"] = json.dumps(body)
    caller = authorized(context, access_token)
    assert caller is not None
    event["requestContext"]["authorizer"] = {**caller, "principalId": caller["user_id"]}
    return event


def conflict_once(
    monkeypatch: pytest.MonkeyPatch, operation: str, reasons: list[str]
) -> list[dict[str, Any]]:
    """Make the next call of a transaction operation of the DynamoDB client (moto's) be
    cancelled for a TransactionConflict, with these cancellation reason codes; the calls
    after it go through. Returns the list of calls made, in order."""
    client = dynamodb.client()
    real = getattr(client, operation)
    name = "".join(part.title() for part in operation.split("_"))
    calls: list[dict[str, Any]] = []

    def cancelled_first(**kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 1:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": code} for code in reasons],
                },
                name,
            )
        return real(**kwargs)

    monkeypatch.setattr(client, operation, cancelled_first)
    return calls
