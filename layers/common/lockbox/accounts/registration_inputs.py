"""The registration calls' inputs: their rules, pydantic models, and one parser per call.

Rules raise RuleViolation (a ValueError), which pydantic collects for every field; the
earliest code in the model's `check_order` decides the answer, `details` lists them all.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

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


def check_new_password(value: object, info: ValidationInfo) -> str:
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


def required() -> Any:
    """A field validated even when absent, so a missing field gets its own rule's code."""
    return Field(None, validate_default=True)


class InputModel(BaseModel):
    # defer_build: a function builds only the models it uses, on first use, not at import.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    check_order: ClassVar[tuple[ErrorCode, ...]] = (ErrorCode.INVALID_REQUEST,)

    @classmethod
    def validation_context(cls, body: dict[str, Any]) -> object:
        """What the field rules may need of the body besides their own field."""
        return None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(body, context=cls.validation_context(body))
        except ValidationError as error:
            violations: list[tuple[ErrorCode, Detail]] = []
            for item in error.errors(include_url=False):
                field = ".".join(str(part) for part in item["loc"]) or "body"
                violation = (item.get("ctx") or {}).get("error")
                if isinstance(violation, RuleViolation):
                    violations.append((violation.code, Detail(field, violation.reason)))
                else:  # pydantic's own checks (a nested object of the wrong type)
                    violations.append((cls.check_order[0], Detail(field, item["msg"])))
            raise refusal(cls.check_order, violations) from None


class RegisterInput(InputModel):
    check_order = (
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_PASSWORD,
        ErrorCode.INVALID_AGE,
        ErrorCode.GENDER_REQUIRED,
    )
    username: Annotated[str, BeforeValidator(check_username)] = required()
    email: Annotated[str, BeforeValidator(check_email)] = required()
    password: Annotated[str, BeforeValidator(check_new_password)] = required()
    full_name: Annotated[str, BeforeValidator(check_full_name)] = required()
    age: Annotated[int, BeforeValidator(check_age)] = required()
    gender: Annotated[str, BeforeValidator(check_gender)] = required()

    @classmethod
    def validation_context(cls, body: dict[str, Any]) -> object:
        username, email = body.get("username"), body.get("email")
        return PasswordContext(
            username=username
            if isinstance(username, str) and USERNAME_PATTERN.fullmatch(username)
            else None,
            email=email if isinstance(email, str) else None,
        )


class ExpressFullname(InputModel):
    firstname: Annotated[str, BeforeValidator(check_first_name)] = required()
    lastname: Annotated[str | None, BeforeValidator(check_last_name)] = None


class UsersRegisterInput(InputModel):
    fullname: Annotated[ExpressFullname, BeforeValidator(check_name_object)] = required()
    email: Annotated[str, BeforeValidator(check_express_email)] = required()
    password: Annotated[str, BeforeValidator(check_express_password)] = required()


def register_input(event: ApiEvent) -> RegisterInput:
    """POST /api/register: the body is a JSON object, then every field's rule."""
    return RegisterInput.from_body(json_body(event))


def users_register_input(event: ApiEvent) -> UsersRegisterInput:
    """POST /users/register: the body is a JSON object, then every field's rule."""
    return UsersRegisterInput.from_body(json_body(event))
