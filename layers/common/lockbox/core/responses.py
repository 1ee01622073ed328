"""Every response the functions return is built here, in one of two formats:

- ContractEnvelope: the contract's {"status", "message", "data"} / {"status", "code",
  "message", "details"} envelope, for every /api route;
- ExpressFormat: the shape front ends of the /users family know (express-validator):
  success is the bare resource, refusals are {"errors": [{"msg", "param", ...}]}.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from lockbox.core import json_text
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.settings import get_settings


class Success(NamedTuple):
    """What a business function answers: the message and data, in either format."""

    message: str | None = None
    data: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] | None = None  # e.g. ETag, added to the JSON and CORS headers


def to_json(body: object) -> str:
    # Characters unescaped and numbers as written: stored values come back as sent.
    return json_text.encode(body)


# A body this large still leaves Lambda's 6 MB response (6,291,556 bytes) room for the
# proxy response around it: calls that answer many values keep their bodies under it.
MAX_BODY_BYTES = 5_000_000


def payload_bytes(text: str) -> int:
    """The most room JSON text can take in Lambda's response: the body is a JSON string
    there, its quotes and backslashes escaped once more, and a runtime may write each other
    non-ASCII character as a \\u escape (Python's before 3.12 did). Never less than the
    text's UTF-8 bytes."""
    return len(json.dumps(text)) - 2  # ASCII only: characters are bytes; less its quotes


class BodyRoom:
    """What is left of MAX_BODY_BYTES for the entries of a body whose `frame` (the body
    without them) is given, for calls that answer many values: each entry is measured as it
    is added, with the comma before it."""

    def __init__(self, frame: object) -> None:
        self.left = MAX_BODY_BYTES - payload_bytes(to_json(frame))

    def take(self, entry: str) -> bool:
        """Whether the entry's JSON text fits; if so, its room is taken."""
        size = payload_bytes(entry) + 1
        if size > self.left:
            return False
        self.left -= size
        return True


def response_headers() -> dict[str, str]:
    """JSON, readable by a browser front end on another origin (SPEC.md, "Browsers")."""
    return {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": get_settings().allowed_origin,
        "Access-Control-Expose-Headers": "ETag, Retry-After",
    }


def json_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway (REST v1) proxy response; `headers` are added to the standard ones."""
    merged = response_headers()
    if headers:
        merged.update(headers)
    return {"statusCode": status, "headers": merged, "body": to_json(body)}


class ResponseFormat(Protocol):
    """How a family of routes renders success and refusal as proxy responses."""

    def success(self, result: Success) -> dict[str, Any]: ...

    def refusal(self, error: ApiError) -> dict[str, Any]: ...


def success_body(result: Success) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success"}
    if result.message is not None:
        body["message"] = result.message
    if result.data is not None:
        body["data"] = result.data
    return body


def error_body(code: ErrorCode, details: list[Detail] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "code": code.name, "message": code.message}
    if details:
        body["details"] = [{"field": d.field, "message": d.message} for d in details]
    return body


class ContractEnvelope:
    """The contract's envelope (every /api route)."""

    def success(self, result: Success) -> dict[str, Any]:
        return json_response(result.status, success_body(result), result.headers)

    def refusal(self, error: ApiError) -> dict[str, Any]:
        body = error_body(error.code, error.details)
        if error.data is not None:
            body["data"] = error.data
        return json_response(error.code.status, body, error.headers)


NOT_AN_OBJECT = "Request body must be a JSON object."


# Refusals the /users front ends read as {"message"} (they decide on the status code).
EXPRESS_MESSAGES = {
    ErrorCode.INVALID_CREDENTIALS: "Invalid email or password",
    ErrorCode.INVALID_TOKEN: "Unauthorized",
    ErrorCode.TOO_MANY_REQUESTS: ErrorCode.TOO_MANY_REQUESTS.message,
    ErrorCode.MFA_REQUIRED: "Two-factor authentication required",
    ErrorCode.EMAIL_NOT_VERIFIED: ErrorCode.EMAIL_NOT_VERIFIED.message,
}


class ExpressFormat:
    """The /users routes' format: the bare resource, or express-validator's errors.

    Every error item has msg, param, path (= param), location and type "field", so that
    readers of express-validator 6 and 7 both work; never the submitted value.
    """

    def success(self, result: Success) -> dict[str, Any]:
        return json_response(result.status, result.data, result.headers)

    def refusal(self, error: ApiError) -> dict[str, Any]:
        if error.code is ErrorCode.INTERNAL_ERROR:
            entries = [{"msg": error.code.message, "location": "server"}]
            return json_response(error.code.status, {"errors": entries})
        if error.code in EXPRESS_MESSAGES:
            body = {"message": EXPRESS_MESSAGES[error.code]}
            return json_response(error.code.status, body, error.headers)
        problems = [(d.field, d.message) for d in error.details] or [("body", NOT_AN_OBJECT)]
        entries = [express_error_item(param, msg) for param, msg in problems]
        return json_response(400, {"errors": entries})


def express_error_item(param: str, msg: str) -> dict[str, str]:
    return {"type": "field", "msg": msg, "param": param, "path": param, "location": "body"}


def express_user(user_id: str, email: str, names: Mapping[str, object]) -> dict[str, Any]:
    """The /users front ends' user object; an /api account's full_name is split at its
    first space into firstname and lastname."""
    fullname: dict[str, str] = {}
    full_name = names.get("full_name")
    if isinstance(full_name, str):
        first, _, last = full_name.partition(" ")
        fullname = {"firstname": first, "lastname": last} if last else {"firstname": first}
    for name in ("firstname", "lastname"):
        value = names.get(name)
        if isinstance(value, str):
            fullname[name] = value
    return {"_id": user_id, "fullname": fullname, "email": email, "socketId": None}
