"""The registration calls' inputs: their rules, and one parser per call.

Each call's body is checked by a pydantic-core schema of its fields, one rule each, run
whether or not the field is there. Rules raise RuleViolation (a ValueError), which
pydantic-core collects for every field; the earliest code in the call's check order
decides the answer, `details` lists them all. pydantic's model layer is not used: its
import and schema generation took about 90 ms of these functions' cold start, and the
core builds these schemas in a tenth of a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic_core import SchemaValidator, ValidationError, core_schema

from lockbox.accounts.emails import check_email, email_reason
from lockbox.accounts.passwords import (
    PasswordContext,
    check_express_password,
    new_password_rule,
)
from lockbox.accounts.profile_rules import check_age, check_full_name, check_gender
from lockbox.core.errors import Detail, ErrorCode
from lockbox.core.proxy import ApiEvent, json_body
from lockbox.core.validation import (
    RuleViolation,
    control_reason,
    is_valid_unicode,
    refusal,
    refuse_if,
    required_text,
)

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,32}")


def check_username(value: object) -> str:
    text = required_text(value, "Username", ErrorCode.INVALID_REQUEST)
    if not USERNAME_PATTERN.fullmatch(text):
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST,
            "Username must be 3 to 32 characters: letters, digits, '_', '.' or '-'.",
        )
    return text


def check_new_password(value: object, info: core_schema.ValidationInfo) -> str:
    # The username and email sent with it are the words it may not contain.
    context = info.context if isinstance(info.context, PasswordContext) else PasswordContext()
    return new_password_rule("Password", context)(value)


# POST /users/register (the /users flavour; messages in its front ends' style).
MIN_NAME_LENGTH, MAX_NAME_LENGTH = 3, 100
MIN_EMAIL_LENGTH = 5


def _name(label: str, value: object) -> str:
    if not isinstance(value, str) or len(value.strip()) < MIN_NAME_LENGTH:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST, f"{label} must be at least {MIN_NAME_LENGTH} characters long"
        )
    if len(value) > MAX_NAME_LENGTH or not is_valid_unicode(value):
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST, f"{label} must be at most {MAX_NAME_LENGTH} characters long"
        )
    refuse_if(control_reason(value, label), ErrorCode.INVALID_REQUEST)
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
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST, "Full name must be an object with firstname and lastname"
        )
    return value


def check_express_email(value: object) -> str:
    if not isinstance(value, str):
        raise RuleViolation(ErrorCode.INVALID_REQUEST, "Invalid Email")
    if len(value) < MIN_EMAIL_LENGTH:
        raise RuleViolation(
            ErrorCode.INVALID_REQUEST, f"Email must be at least {MIN_EMAIL_LENGTH} characters long"
        )
    if not is_valid_unicode(value) or email_reason(value):
        raise RuleViolation(ErrorCode.INVALID_REQUEST, "Invalid Email")
    return value


def always_checked(check: core_schema.CoreSchema) -> core_schema.TypedDictField:
    """A field checked even when absent, so that a missing field gets its own rule's code."""
    return core_schema.typed_dict_field(
        core_schema.with_default_schema(check, default=None, validate_default=True),
        required=False,
    )


def rule_field(rule: Callable[[Any], Any]) -> core_schema.TypedDictField:
    return always_checked(core_schema.no_info_plain_validator_function(rule))


def context_rule_field(
    rule: Callable[[Any, core_schema.ValidationInfo], Any],
) -> core_schema.TypedDictField:
    """The field of a rule that also reads the validation context."""
    return always_checked(core_schema.with_info_plain_validator_function(rule))


def object_schema(
    fields: dict[str, core_schema.TypedDictField], build: Callable[..., Any]
) -> core_schema.CoreSchema:
    """A JSON object of these fields (any others ignored), made into `build(**fields)`."""
    return core_schema.no_info_after_validator_function(
        lambda values: build(**values),
        core_schema.typed_dict_schema(fields, extra_behavior="ignore"),
    )


def checked(
    validator: SchemaValidator,
    check_order: tuple[ErrorCode, ...],
    body: dict[str, Any],
    context: object = None,
) -> Any:
    """What `validator` makes of the body, or the refusal naming every violation."""
    try:
        return validator.validate_python(body, context=context)
    except ValidationError as error:
        violations: list[tuple[ErrorCode, Detail]] = []
        for item in error.errors(include_url=False):
            field = ".".join(str(part) for part in item["loc"]) or "body"
            violation = (item.get("ctx") or {}).get("error")
            if isinstance(violation, RuleViolation):
                violations.append((violation.code, Detail(field, violation.reason)))
            else:  # pydantic-core's own refusals: these rules leave it none to make
                violations.append((check_order[0], Detail(field, item["msg"])))
        raise refusal(check_order, violations) from None


REGISTER_CHECK_ORDER = (
    ErrorCode.INVALID_REQUEST,
    ErrorCode.INVALID_PASSWORD,
    ErrorCode.INVALID_AGE,
    ErrorCode.GENDER_REQUIRED,
)


class RegisterInput(NamedTuple):
    username: str
    email: str
    password: str
    full_name: str
    age: int
    gender: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RegisterInput:
        # The username and email sent with the password are the words it may not contain.
        username, email = body.get("username"), body.get("email")
        context = PasswordContext(
            username=username
            if isinstance(username, str) and USERNAME_PATTERN.fullmatch(username)
            else None,
            email=email if isinstance(email, str) else None,
        )
        result: RegisterInput = checked(_REGISTER, REGISTER_CHECK_ORDER, body, context)
        return result


_REGISTER = SchemaValidator(
    object_schema(
        {
            "username": rule_field(check_username),
            "email": rule_field(check_email),
            "password": context_rule_field(check_new_password),
            "full_name": rule_field(check_full_name),
            "age": rule_field(check_age),
            "gender": rule_field(check_gender),
        },
        RegisterInput,
    )
)


class UsersRegisterInput(NamedTuple):
    fullname: dict[str, str]  # firstname, and lastname when given
    email: str
    password: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> UsersRegisterInput:
        result: UsersRegisterInput = checked(_USERS_REGISTER, (ErrorCode.INVALID_REQUEST,), body)
        return result


def _given(**names: str | None) -> dict[str, str]:
    return {name: value for name, value in names.items() if value is not None}


_FULLNAME = core_schema.no_info_before_validator_function(
    check_name_object,
    object_schema(
        {"firstname": rule_field(check_first_name), "lastname": rule_field(check_last_name)},
        _given,
    ),
)
_USERS_REGISTER = SchemaValidator(
    object_schema(
        {
            "fullname": always_checked(_FULLNAME),
            "email": rule_field(check_express_email),
            "password": rule_field(check_express_password),
        },
        UsersRegisterInput,
    )
)


def register_input(event: ApiEvent) -> RegisterInput:
    """POST /api/register: the body is a JSON object, then every field's rule."""
    return RegisterInput.from_body(json_body(event))


def users_register_input(event: ApiEvent) -> UsersRegisterInput:
    """POST /users/register: the body is a JSON object, then every field's rule."""
    return UsersRegisterInput.from_body(json_body(event))
