"""The one response envelope: every body the functions return is built here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lockbox.errors import ApiError, ErrorCode, FieldProblem

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Success:
    """What a business function answers: the envelope's message and data."""

    message: str | None = None
    data: dict[str, Any] | None = None
    status: int = 200


def to_json(body: object) -> str:
    # ensure_ascii=False keeps stored strings byte for byte as the client sent them.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_response(status: int, body: object) -> dict[str, Any]:
    """An API Gateway (REST v1) proxy response."""
    return {"statusCode": status, "headers": dict(JSON_HEADERS), "body": to_json(body)}


def success_body(result: Success) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success"}
    if result.message is not None:
        body["message"] = result.message
    if result.data is not None:
        body["data"] = result.data
    return body


def error_body(code: ErrorCode, details: list[FieldProblem] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "code": code.name, "message": code.message}
    if details:
        body["details"] = [{"field": p.field, "message": p.message} for p in details]
    return body


def success_response(result: Success) -> dict[str, Any]:
    return json_response(result.status, success_body(result))


def error_response(error: ApiError) -> dict[str, Any]:
    return json_response(error.code.status, error_body(error.code, error.details))
