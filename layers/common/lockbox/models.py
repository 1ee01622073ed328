"""Request parsing for every call, and the plain request models of the token and data calls.

Each rule is a function that returns the field's value or raises RuleViolationError with the
error code it answers. A request model runs every rule of its fields, so one pass finds
every problem (for `details`), and the earliest code in its `check_order` decides.

The token and data calls validate their two fields here without pydantic: it would cost
their cold start about 50 ms (measured in bench/), a third of a Lambda's whole start-up.
The registration models, with more fields and rules, are pydantic models in
lockbox.account_models, raising the same RuleViolationError.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from lockbox.errors import ApiError, ErrorCode, FieldProblem
from lockbox.settings import get_settings

MAX_KEY_BYTES = 256


class RuleViolationError(ValueError):
    """A field breaks one of the contract's rules; `code` is the error it answers with."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def problem(code: ErrorCode, message: str) -> RuleViolationError:
    return RuleViolationError(code, message)


def is_valid_unicode(text: str) -> bool:
    """False for strings with lone surrogates, which JSON allows but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def present_text(value: object, label: str, code: ErrorCode) -> str:
    """A string that is there and not blank."""
    if value is None:
        raise problem(code, f"{label} is required.")
    if not isinstance(value, str):
        raise problem(code, f"{label} must be a string.")
    if not value.strip():
        raise problem(code, f"{label} must not be blank.")
    return value


def required_text(value: object, label: str, code: ErrorCode) -> str:
    """A string that is there, not blank, and storable (encodable as UTF-8)."""
    present_text(value, label, code)
    assert isinstance(value, str)
    if not is_valid_unicode(value):
        raise problem(code, f"{label} must be valid Unicode text.")
    return value


def check_login_text(value: object) -> str:
    # Any string is a credential to check: one no account can have fails as INVALID_CREDENTIALS.
    return present_text(value, "This field", ErrorCode.MISSING_FIELDS)


def key_problem(value: object) -> str | None:
    """Why this is not a valid item key, or None."""
    if not isinstance(value, str) or value == "":
        return "Key is required and must be a non-empty string."
    if not is_valid_unicode(value):
        return "Key must be valid Unicode text."
    if len(value.encode("utf-8")) > MAX_KEY_BYTES:
        return f"Key must be at most {MAX_KEY_BYTES} bytes in UTF-8."
    if "/" in value:
        return "Key must not contain '/'."
    if any(unicodedata.category(char) == "Cc" for char in value):
        return "Key must not contain control characters."
    if value != value.strip():
        return "Key must not start or end with whitespace."
    return None


def check_key(value: object) -> str:
    reason = key_problem(value)
    if reason:
        raise problem(ErrorCode.INVALID_KEY, reason)
    assert isinstance(value, str)
    return value


def encode_value(value: object) -> str:
    """The value's compact JSON encoding, which is what is stored."""
    if value is None or value == "":
        raise problem(ErrorCode.INVALID_VALUE, "Value is required and must not be null or empty.")
    try:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(encoded.encode("utf-8"))
    except (ValueError, TypeError, RecursionError):  # 1e400, lone surrogates, huge integers
        raise problem(
            ErrorCode.INVALID_VALUE,
            "Value must be storable exactly: finite numbers of at most "
            f"{sys.get_int_max_str_digits()} digits, valid Unicode text.",
        ) from None
    limit = get_settings().max_value_bytes
    if size > limit:
        raise problem(ErrorCode.INVALID_VALUE, f"Value must be at most {limit} bytes as JSON.")
    return encoded


class RequestModel(Protocol):
    """What parse_request needs of a request model, pydantic or plain."""

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self: ...


def parse_request[Model: RequestModel](model: type[Model], body: dict[str, Any]) -> Model:
    """The validated request, or an ApiError with the first check's code and every problem."""
    return model.from_body(body)


def refusal(
    check_order: Sequence[ErrorCode], problems: list[tuple[ErrorCode, FieldProblem]]
) -> ApiError:
    first = min((code for code, _ in problems), key=check_order.index)
    return ApiError(first, [found for _, found in problems])


@dataclass(frozen=True, slots=True)
class FieldRule:
    field: str  # as the client names it
    attribute: str  # on the model
    check: Callable[[object], Any]


class PlainRequest:
    """A request model whose fields are checked by their rules, in order, all of them."""

    rules: ClassVar[tuple[FieldRule, ...]]
    check_order: ClassVar[tuple[ErrorCode, ...]]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        values: dict[str, Any] = {}
        problems: list[tuple[ErrorCode, FieldProblem]] = []
        for rule in cls.rules:
            try:
                values[rule.attribute] = rule.check(body.get(rule.field))
            except RuleViolationError as violation:
                problems.append((violation.code, FieldProblem(rule.field, violation.message)))
        if problems:
            raise refusal(cls.check_order, problems)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class TokenRequest(PlainRequest):
    username: str
    password: str
    rules = (
        FieldRule("username", "username", check_login_text),
        FieldRule("password", "password", check_login_text),
    )
    check_order = (ErrorCode.MISSING_FIELDS,)


@dataclass(frozen=True, slots=True)
class StoreRequest(PlainRequest):
    key: str
    value_json: str  # the value's compact JSON text, which is what is stored
    rules = (FieldRule("key", "key", check_key), FieldRule("value", "value_json", encode_value))
    check_order = (ErrorCode.INVALID_KEY, ErrorCode.INVALID_VALUE)


@dataclass(frozen=True, slots=True)
class UpdateRequest(PlainRequest):
    value_json: str
    rules = (FieldRule("value", "value_json", encode_value),)
    check_order = (ErrorCode.INVALID_VALUE,)


def valid_key(key: str) -> str:
    """A key from the URL path, or INVALID_KEY."""
    reason = key_problem(key)
    if reason:
        raise ApiError(ErrorCode.INVALID_KEY, [FieldProblem(field="key", message=reason)])
    return key
