"""The session calls of the handler suite: login (token), refresh, and the authorizer's
view of an access token, which turns an events/ file into the call of a logged-in caller."""

from __future__ import annotations

import json
import time
from typing import Any

from lockbox_local.events import load_event
from tests.handlers.accounts import USER
from tests.handlers.calls import Answer, call, handler, with_body

# A method ARN of the API's stage: the authorizer's policy covers every route of it.
STAGE_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/api/account"


class LoginClock:
    """The login protection's clock, stopped: it moves only when a test moves it."""

    def __init__(self) -> None:
        self.now_ms = time.time_ns() // 1_000_000

    def advance(self, seconds: float) -> None:
        self.now_ms += round(seconds * 1000)


def token(context: Any, username: str, password: str) -> Answer:
    body = {"username": username, "password": password}
    return call(handler("token"), with_body("token_success", body), context)


def log_in(context: Any, password: str = USER["password"]) -> dict[str, Any]:
    """The data of a successful login of the sample account: tokens and their lifetimes."""
    status, body = token(context, USER["username"], password)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def access_token(context: Any, password: str = USER["password"]) -> str:
    return str(log_in(context, password)["access_token"])


def refresh(context: Any, refresh_token: object) -> Answer:
    event = with_body("token_refresh_success", {"refresh_token": refresh_token})
    return call(handler("token_refresh"), event, context)


def authorized(context: Any, access_token: str) -> dict[str, Any] | None:
    """The authorizer's context for this token, or None when it refuses it."""
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {access_token}",
        "methodArn": STAGE_ARN,
    }
    answer: dict[str, Any] = handler("authorizer")(event, context)
    if answer["policyDocument"]["Statement"][0]["Effect"] == "Deny":
        return None
    return dict(answer["context"])


def as_caller(name: str, access_token: str, context: Any, body: object = ...) -> dict[str, Any]:
    """An events/ file as API Gateway hands it over once the authorizer accepted the token."""
    event = load_event(name)
    if body is not ...:
        event["body"] = json.dumps(body)
    caller = authorized(context, access_token)
    assert caller is not None
    event["requestContext"]["authorizer"] = {**caller, "principalId": caller["user_id"]}
    return event


def logout(context: Any, access_token: str) -> None:
    """End the session of this access token (POST /api/logout)."""
    event = as_caller("logout_success", access_token, context)
    assert call(handler("logout"), event, context)[0] == 200
