"""The rules of the profile's fields (full_name, age, gender), shared by registration
(POST /api/register) and the account update (PATCH /api/account), which check them alike
with the same codes. Without pydantic: the update's function does not load it."""

from __future__ import annotations

from lockbox.core.errors import ErrorCode
from lockbox.core.json_text import JsonNumber
from lockbox.core.validation import RuleViolation, control_reason, refuse_if, required_text

MAX_FULL_NAME_LENGTH = 100
MAX_GENDER_LENGTH = 64
MIN_AGE, MAX_AGE = 1, 150


def _free_text(value: object, label: str, code: ErrorCode, max_length: int) -> str:
    """Free text: present, not blank, no control characters (INVALID_REQUEST whatever the
    field's own code), at most max_length characters."""
    text = required_text(value, label, code)
    refuse_if(control_reason(text, label), ErrorCode.INVALID_REQUEST)
    if len(text) > max_length:
        raise RuleViolation(code, f"{label} must be at most {max_length} characters.")
    return text


def check_full_name(value: object) -> str:
    return _free_text(value, "Full name", ErrorCode.INVALID_REQUEST, MAX_FULL_NAME_LENGTH)


def check_age(value: object) -> int:
    # bool is an int in Python but not an integer in JSON; floats like 30.0 are refused too.
    if value is None:
        raise RuleViolation(ErrorCode.INVALID_AGE, "Age is required.")
    if isinstance(value, JsonNumber) and value.is_integer():  # -0, or too many digits
        raise RuleViolation(ErrorCode.INVALID_AGE, f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleViolation(ErrorCode.INVALID_AGE, "Age must be a whole number.")
    if not MIN_AGE <= value <= MAX_AGE:
        raise RuleViolation(ErrorCode.INVALID_AGE, f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    return value


def check_gender(value: object) -> str:
    return _free_text(value, "Gender", ErrorCode.GENDER_REQUIRED, MAX_GENDER_LENGTH)
