"""The data calls' inputs: their rules, and one parser per call that checks the whole
input in the contract's order.

The order (SPEC.md, "Data"): the caller (INVALID_TOKEN), the key's form when it is in the
path (INVALID_KEY), the body is a JSON object (INVALID_REQUEST), the key's form when it is
in the body (INVALID_KEY), the value (INVALID_VALUE). Each parser below walks exactly
that order, so a handler cannot get it wrong: it hands over the event and gets the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from lockbox import json_text
from lockbox.errors import ApiError, Detail, ErrorCode
from lockbox.proxy import ApiEvent, caller_id, json_body, path_parameter
from lockbox.settings import get_settings
from lockbox.validation import (
    FieldRule,
    PlainInput,
    RuleViolation,
    has_control_character,
    is_valid_unicode,
    refuse_if,
)

MAX_KEY_BYTES = 256


def key_reason(value: object) -> str | None:
    """Why this is not a valid item key, or None."""
    if not isinstance(value, str) or value == "":
        return "Key is required and must be a non-empty string."
    if not is_valid_unicode(value):
        return "Key must be valid Unicode text."
    if len(value.encode("utf-8")) > MAX_KEY_BYTES:
        return f"Key must be at most {MAX_KEY_BYTES} bytes in UTF-8."
    if "/" in value:
        return "Key must not contain '/'."
    if has_control_character(value):
        return "Key must not contain control characters."
    if value != value.strip():
        return "Key must not start or end with whitespace."
    return None


def check_key(value: object) -> str:
    refuse_if(key_reason(value), ErrorCode.INVALID_KEY)
    assert isinstance(value, str)
    return value


def encode_value(value: object) -> str:
    """The value's compact JSON text, numbers as written: what is stored and returned."""
    if value is None or value == "":
        raise RuleViolation(
            ErrorCode.INVALID_VALUE, "Value is required and must not be null or empty."
        )
    try:
        encoded = json_text.encode(value)
        size = len(encoded.encode("utf-8"))
    except (json_text.UnstorableJsonError, UnicodeEncodeError, RecursionError):
        raise RuleViolation(
            ErrorCode.INVALID_VALUE,
            "Value must be storable exactly: each object member named once, valid Unicode text.",
        ) from None
    limit = get_settings().max_value_bytes
    if size > limit:
        raise RuleViolation(
            ErrorCode.INVALID_VALUE, f"Value must be at most {limit} bytes as JSON."
        )
    return encoded


@dataclass(frozen=True, slots=True)
class KeyInput:
    """GET and DELETE /api/data/{key}: the caller and the key."""

    user_id: str
    key: str


@dataclass(frozen=True, slots=True)
class StoreInput:
    """POST /api/data."""

    user_id: str
    key: str
    value_json: str  # the value's compact JSON text, which is what is stored


@dataclass(frozen=True, slots=True)
class UpdateInput:
    """PUT /api/data/{key}."""

    user_id: str
    key: str
    value_json: str


@dataclass(frozen=True, slots=True)
class StoreFields(PlainInput):
    """POST /api/data's body."""

    key: str
    value_json: str
    rules = (FieldRule("key", "key", check_key), FieldRule("value", "value_json", encode_value))
    check_order = (ErrorCode.INVALID_KEY, ErrorCode.INVALID_VALUE)


@dataclass(frozen=True, slots=True)
class UpdateFields(PlainInput):
    """PUT /api/data/{key}'s body."""

    value_json: str
    rules = (FieldRule("value", "value_json", encode_value),)
    check_order = (ErrorCode.INVALID_VALUE,)


def path_key(event: ApiEvent) -> str:
    """The {key} path parameter (as API Gateway decoded it, once), or INVALID_KEY."""
    key = path_parameter(event, "key")
    reason = key_reason(key)
    if reason:
        raise ApiError(ErrorCode.INVALID_KEY, [Detail(field="key", message=reason)])
    assert isinstance(key, str)
    return key


def _object_body(event: ApiEvent) -> dict[str, object]:
    # Only a value can be nested deeper than the parser goes: that is INVALID_VALUE here.
    return json_body(event, too_deep=ErrorCode.INVALID_VALUE)


def key_input(event: ApiEvent) -> KeyInput:
    user_id = caller_id(event)
    return KeyInput(user_id, path_key(event))


def store_input(event: ApiEvent) -> StoreInput:
    user_id = caller_id(event)
    fields = StoreFields.from_body(_object_body(event))
    return StoreInput(user_id, fields.key, fields.value_json)


def update_input(event: ApiEvent) -> UpdateInput:
    user_id = caller_id(event)
    key = path_key(event)
    fields = UpdateFields.from_body(_object_body(event))
    return UpdateInput(user_id, key, fields.value_json)
