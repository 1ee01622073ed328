"""Reading the parts of an API Gateway REST (v1) proxy event that the input parsers use."""

from __future__ import annotations

import base64
import binascii
import json
import sys
from typing import Any

from lockbox.errors import ApiError, ErrorCode

ApiEvent = dict[str, Any]


class _NotJsonError(ValueError):
    pass


class OversizedInteger:
    """A JSON integer longer than Python converts (sys.get_int_max_str_digits(), 4300 by
    default, a guard against quadratic-time conversion). Neither an int nor a string, so
    each field's own rule refuses it: INVALID_AGE for an age, INVALID_VALUE for a value."""

    __slots__ = ("digits",)

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _parse_int(digits: str) -> int | OversizedInteger:
    if len(digits) - digits.startswith("-") > sys.get_int_max_str_digits() > 0:
        return OversizedInteger(digits)
    return int(digits)


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON, whatever Python's parser accepts by default.
    raise _NotJsonError(f"{name} is not valid JSON")


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
        parsed = json.loads(raw, parse_constant=_reject_constant, parse_int=_parse_int)
    except (json.JSONDecodeError, _NotJsonError, binascii.Error, UnicodeDecodeError, TypeError):
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
