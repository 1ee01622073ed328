"""Request models (pydantic) with the contract's rules, check order and error codes.

Every rule raises a PydanticCustomError whose type is the contract's error code, so
one validation pass finds every problem (for `details`) and the earliest check in the
model's `check_order` decides the code.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

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


def problem(code: ErrorCode, message: str) -> PydanticCustomError:
    return PydanticCustomError(code.name, message)


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


def _username(value: object) -> str:
    text = required_text(value, "Username", ErrorCode.INVALID_REQUEST)
    if not USERNAME_PATTERN.fullmatch(text):
        raise problem(
            ErrorCode.INVALID_REQUEST,
            "Username must be 3 to 32 characters: letters, digits, '_', '.' or '-'.",
        )
    return text


def email_problem(text: str) -> str | None:
    """Why this is not a usable email address, or None."""
    from email_validator import EmailNotValidError, validate_email

    if len(text) > MAX_EMAIL_LENGTH:
        return f"Email must be at most {MAX_EMAIL_LENGTH} characters."
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return "Email must be a valid email address."
    return None


def _email(value: object) -> str:
    text = required_text(value, "Email", ErrorCode.INVALID_REQUEST)
    reason = email_problem(text)
    if reason:
        raise problem(ErrorCode.INVALID_REQUEST, reason)
    return text


def _full_name(value: object) -> str:
    text = required_text(value, "Full name", ErrorCode.INVALID_REQUEST)
    if len(text) > MAX_FULL_NAME_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST,
            f"Full name must be at most {MAX_FULL_NAME_LENGTH} characters.",
        )
    return text


def _new_password(value: object) -> str:
    text = required_text(value, "Password", ErrorCode.INVALID_REQUEST)
    reason = password_problem(text)
    if reason:
        raise problem(ErrorCode.INVALID_PASSWORD, reason)
    return text


def _age(value: object) -> int:
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


def _gender(value: object) -> str:
    text = required_text(value, "Gender", ErrorCode.GENDER_REQUIRED)
    if len(text) > MAX_GENDER_LENGTH:
        raise problem(
            ErrorCode.GENDER_REQUIRED, f"Gender must be at most {MAX_GENDER_LENGTH} characters."
        )
    return text


def _login_text(value: object) -> str:
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


def _key(value: object) -> str:
    reason = key_problem(value)
    if reason:
        raise problem(ErrorCode.INVALID_KEY, reason)
    assert isinstance(value, str)
    return value


def _value_json(value: object) -> str:
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


def required(alias: str | None = None) -> Any:
    """A field validated even when absent, so a missing field gets its own rule's code."""
    return Field(None, validation_alias=alias, validate_default=True)


class RequestModel(BaseModel):
    # defer_build: a function builds only the models it uses, on first use, not at import.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    check_order: ClassVar[tuple[ErrorCode, ...]]


class RegisterRequest(RequestModel):
    check_order = (
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_PASSWORD,
        ErrorCode.INVALID_AGE,
        ErrorCode.GENDER_REQUIRED,
    )
    username: Annotated[str, BeforeValidator(_username)] = required()
    email: Annotated[str, BeforeValidator(_email)] = required()
    password: Annotated[str, BeforeValidator(_new_password)] = required()
    full_name: Annotated[str, BeforeValidator(_full_name)] = required()
    age: Annotated[int, BeforeValidator(_age)] = required()
    gender: Annotated[str, BeforeValidator(_gender)] = required()


class TokenRequest(RequestModel):
    check_order = (ErrorCode.MISSING_FIELDS,)
    username: Annotated[str, BeforeValidator(_login_text)] = required()
    password: Annotated[str, BeforeValidator(_login_text)] = required()


class StoreRequest(RequestModel):
    check_order = (ErrorCode.INVALID_KEY, ErrorCode.INVALID_VALUE)
    key: Annotated[str, BeforeValidator(_key)] = required()
    value_json: Annotated[str, BeforeValidator(_value_json)] = required("value")


class UpdateRequest(RequestModel):
    check_order = (ErrorCode.INVALID_VALUE,)
    value_json: Annotated[str, BeforeValidator(_value_json)] = required("value")


def parse_request[Model: RequestModel](model: type[Model], body: dict[str, Any]) -> Model:
    """The validated request, or an ApiError with the first check's code and every problem."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems: list[tuple[ErrorCode, FieldProblem]] = []
        for item in error.errors(include_url=False):
            code = ErrorCode.__members__.get(item["type"], model.check_order[0])
            field = _field_path(model, item["loc"])
            problems.append((code, FieldProblem(field=field, message=item["msg"])))
        first = min((code for code, _ in problems), key=model.check_order.index)
        raise ApiError(first, [p for _, p in problems]) from None


def _field_path(model: type[RequestModel], loc: tuple[int | str, ...]) -> str:
    """The field as the client named it: its alias where it has one ("value", not "value_json")."""
    if not loc:
        return "body"
    field = model.model_fields.get(str(loc[0]))
    alias = field.validation_alias if field else None
    head = alias if isinstance(alias, str) else str(loc[0])
    return ".".join([head, *(str(part) for part in loc[1:])])


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


def _first_name(value: object) -> str:
    return _name("First name", value)


def _last_name(value: object) -> str | None:
    return None if value is None else _name("Last name", value)


def _full_name_object(value: object) -> object:
    # A missing fullname is reported as a missing first name, as its clients expect.
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise problem(
            ErrorCode.INVALID_REQUEST, "Full name must be an object with firstname and lastname"
        )
    return value


def _signup_email(value: object) -> str:
    if not isinstance(value, str):
        raise problem(ErrorCode.INVALID_REQUEST, "Invalid Email")
    if len(value) < MIN_EMAIL_LENGTH:
        raise problem(
            ErrorCode.INVALID_REQUEST, f"Email must be at least {MIN_EMAIL_LENGTH} characters long"
        )
    if not is_valid_unicode(value) or email_problem(value):
        raise problem(ErrorCode.INVALID_REQUEST, "Invalid Email")
    return value


def _signup_password(value: object) -> str:
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


class SignupName(RequestModel):
    check_order = (ErrorCode.INVALID_REQUEST,)
    firstname: Annotated[str, BeforeValidator(_first_name)] = required()
    lastname: Annotated[str | None, BeforeValidator(_last_name)] = None


class SignupRequest(RequestModel):
    check_order = (ErrorCode.INVALID_REQUEST,)
    fullname: Annotated[SignupName, BeforeValidator(_full_name_object)] = required()
    email: Annotated[str, BeforeValidator(_signup_email)] = required()
    password: Annotated[str, BeforeValidator(_signup_password)] = required()
