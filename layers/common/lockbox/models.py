"""The contract's field rules, and the plain request models of the token and data calls.

Each rule is a function that returns the field's value or raises RuleViolationError with the
error code it answers. A request model runs every rule of its fields, so one pass finds
every problem (for `details`), and the earliest code in its `check_order` decides.

The token and data calls validate their two fields here without pydantic: it would cost
their cold start about 50 ms (measured in bench/), a third of a Lambda's whole start-up.
The registration models, with more fields, are pydantic models (lockbox.account_models)
built on the same rules.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from lockbox.errors import ApiError, ErrorCode, FieldProblem
from lockbox.events import OversizedInteger
from lockbox.passwords import MAX_PASSWORD_BYTES, password_bytes, password_problem
from lockbox.settings import get_settings

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MAX_EMAIL_LENGTH = 254
MAX_FULL_NAME_LENGTH = 100
MAX_GENDER_LENGTH = 64
MIN_AGE, MAX_AGE = 1, 150
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


def check_username(value: object) -> str:
    text = required_text(value, "Username", ErrorCode.INVALID_REQUEST)
    if not USERNAME_PATTERN.fullmatch(text):
        raise problem(
            ErrorCode.INVALID_REQUEST,
            "Username must be 3 to 32 characters: letters, digits, '_', '.' or '-'.",
        )
    return text


# ASCII addresses: RFC 5322's dot-atom local part and a DNS host name of two or more
# labels, the last ending with a letter (as every top-level domain does) and not a
# special-use name (RFC 6761, 7686): the rules the email-validator package applies,
# checked here because it costs 15 ms to import and 30 µs a call. It still checks every
# internationalised address (IDNA domains, UTF-8 local parts), which need its tables.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
_ASCII_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?P<top>{_TOP_LABEL})")
_SPECIAL_USE_TOP_LABELS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def email_problem(text: str) -> str | None:
    """Why this is not a usable email address, or None."""
    if len(text) > MAX_EMAIL_LENGTH:
        return f"Email must be at most {MAX_EMAIL_LENGTH} characters."
    labels = text.rpartition("@")[2].lower().split(".")
    if text.isascii() and not any(label.startswith("xn--") for label in labels):
        match = _ASCII_EMAIL.fullmatch(text)
        valid = (
            match is not None
            and match["top"].lower() not in _SPECIAL_USE_TOP_LABELS
            # "ab--cd" is reserved for IDNA encodings (RFC 5891), as "xn--" labels are.
            and not any(label[2:4] == "--" for label in labels)
        )
    else:
        valid = _valid_international_email(text)
    return None if valid else "Email must be a valid email address."


def _valid_international_email(text: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def check_email(value: object) -> str:
    text = required_text(value, "Email", ErrorCode.INVALID_REQUEST)
    reason = email_problem(text)
    if reason:
        raise problem(ErrorCode.INVALID_REQUEST, reason)
    return text


def check_full_name(value: object) -> str:
    text = required_text(value, "Full name", ErrorCode.INVALID_REQUEST)
    if len(text) > MAX_FULL_NAME_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST,
            f"Full name must be at most {MAX_FULL_NAME_LENGTH} characters.",
        )
    return text


def check_new_password(value: object) -> str:
    text = required_text(value, "Password", ErrorCode.INVALID_REQUEST)
    reason = password_problem(text)
    if reason:
        raise problem(ErrorCode.INVALID_PASSWORD, reason)
    return text


def check_age(value: object) -> int:
    # bool is an int in Python but not an integer in JSON; floats like 30.0 are refused too.
    if value is None:
        raise problem(ErrorCode.INVALID_AGE, "Age is required.")
    if isinstance(value, OversizedInteger):
        raise problem(ErrorCode.INVALID_AGE, f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem(ErrorCode.INVALID_AGE, "Age must be a whole number.")
    if not MIN_AGE <= value <= MAX_AGE:
        raise problem(ErrorCode.INVALID_AGE, f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    return value


def check_gender(value: object) -> str:
    text = required_text(value, "Gender", ErrorCode.GENDER_REQUIRED)
    if len(text) > MAX_GENDER_LENGTH:
        raise problem(
            ErrorCode.GENDER_REQUIRED, f"Gender must be at most {MAX_GENDER_LENGTH} characters."
        )
    return text


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


# POST /users/register (the second registration flavour; messages in its clients' style).
MIN_NAME_LENGTH, MAX_NAME_LENGTH = 3, 100
MIN_EMAIL_LENGTH = 5
MIN_SIGNUP_PASSWORD_LENGTH = 6


def _name(label: str, value: object) -> str:
    if not isinstance(value, str) or len(value.strip()) < MIN_NAME_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST, f"{label} must be at least {MIN_NAME_LENGTH} characters long"
        )
    if len(value) > MAX_NAME_LENGTH or not is_valid_unicode(value):
        raise problem(
            ErrorCode.INVALID_REQUEST, f"{label} must be at most {MAX_NAME_LENGTH} characters long"
        )
    return value


def check_first_name(value: object) -> str:
    return _name("First name", value)


def check_last_name(value: object) -> str | None:
    return None if value is None else _name("Last name", value)


def check_name_object(value: object) -> object:
    # A missing fullname is reported as a missing first name, as its clients expect.
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise problem(
            ErrorCode.INVALID_REQUEST, "Full name must be an object with firstname and lastname"
        )
    return value


def check_signup_email(value: object) -> str:
    if not isinstance(value, str):
        raise problem(ErrorCode.INVALID_REQUEST, "Invalid Email")
    if len(value) < MIN_EMAIL_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST, f"Email must be at least {MIN_EMAIL_LENGTH} characters long"
        )
    if not is_valid_unicode(value) or email_problem(value):
        raise problem(ErrorCode.INVALID_REQUEST, "Invalid Email")
    return value


def check_signup_password(value: object) -> str:
    if not isinstance(value, str) or len(value) < MIN_SIGNUP_PASSWORD_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST,
            f"Password must be at least {MIN_SIGNUP_PASSWORD_LENGTH} characters long",
        )
    encoded = password_bytes(value)
    if encoded is None or len(encoded) > MAX_PASSWORD_BYTES:
        raise problem(
            ErrorCode.INVALID_REQUEST, f"Password must be at most {MAX_PASSWORD_BYTES} bytes long"
        )
    return value
