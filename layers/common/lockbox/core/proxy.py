"""Reading the parts of an API Gateway REST (v1) proxy event that the input parsers use."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lockbox.core import json_text
from lockbox.core.errors import ApiError, ErrorCode

ApiEvent = dict[str, Any]


def json_body(
    event: ApiEvent, *, too_deep: ErrorCode = ErrorCode.INVALID_REQUEST
) -> dict[str, Any]:
    """The request body as a JSON object, or INVALID_REQUEST.

    A valid JSON object nested deeper than the parser's recursion limit answers `too_deep`
    instead: the data calls' input parser passes INVALID_VALUE, as only a value can be deep.
    """
    raw = event.get("body")
    if raw is None:
        raise ApiError(ErrorCode.INVALID_REQUEST)
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        parsed = json_text.parse(raw)
    except (
        json.JSONDecodeError,
        json_text.NotJsonError,
        binascii.Error,
        UnicodeDecodeError,
        TypeError,
    ):
        raise ApiError(ErrorCode.INVALID_REQUEST) from None
    except (RecursionError, ValueError):
        is_object = raw.lstrip(" \t\n\r").startswith("{")
        raise ApiError(too_deep if is_object else ErrorCode.INVALID_REQUEST) from None
    if not isinstance(parsed, dict):
        raise ApiError(ErrorCode.INVALID_REQUEST)
    return parsed


def path_parameter(event: ApiEvent, name: str) -> object:
    """A path parameter exactly as API Gateway decoded it (once); never decoded again."""
    return (event.get("pathParameters") or {}).get(name)


def header(event: ApiEvent, name: str) -> str | None:
    """A request header's value; names are case-insensitive, as clients send them in any case."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted and isinstance(value, str):
            return value
    return None


# A session's User-Agent is shown back to its user: long enough to tell devices apart.
USER_AGENT_CHARACTERS = 256


def user_agent(event: ApiEvent) -> str | None:
    """The request's User-Agent, cut to USER_AGENT_CHARACTERS; None without one."""
    value = header(event, "User-Agent")
    return value[:USER_AGENT_CHARACTERS] if value else None


def source_ip(event: ApiEvent) -> str | None:
    """The client's address as API Gateway saw it (requestContext.identity.sourceIp)."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    value = identity.get("sourceIp")
    return value if isinstance(value, str) and value else None


def origin(event: ApiEvent) -> dict[str, str | None]:
    """Where a request came from, as sessions and the activity log keep it: the fields
    `user_agent` and `source_ip` of the inputs that record them."""
    return {"user_agent": user_agent(event), "source_ip": source_ip(event)}


def header_values(event: ApiEvent, name: str) -> list[str]:
    """Every line of a request header, in order: API Gateway's multiValueHeaders, or the
    single value of `headers` when the event has no multiValueHeaders for it."""
    wanted = name.lower()
    lines: list[str] = []
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and isinstance(values, list):
            lines += [value for value in values if isinstance(value, str)]
    if lines:
        return lines
    value = header(event, name)
    return [] if value is None else [value]


def query_parameters(event: ApiEvent) -> dict[str, str]:
    """The query string's parameters (the last value of a repeated name), decoded once."""
    return dict(event.get("queryStringParameters") or {})


def caller_id(event: ApiEvent) -> str:
    """The user id the authorizer vouched for; never taken from anything the client sent."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    user_id = authorizer.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise ApiError(ErrorCode.INVALID_TOKEN)
    return user_id


def caller_session(event: ApiEvent) -> str:
    """The session id (`sid`) the authorizer vouched for along with the caller."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    session_id = authorizer.get("sid")
    if not isinstance(session_id, str) or not session_id:
        raise ApiError(ErrorCode.INVALID_TOKEN)
    return session_id


def has_body(event: ApiEvent) -> bool:
    """Whether the request came with a body at all (an optional body may be left out)."""
    return event.get("body") not in (None, "")
