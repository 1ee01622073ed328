"""The registration request models (pydantic), built on the contract's rules in lockbox.models.

Rules raise RuleViolationError (a ValueError), which pydantic collects for every field; the
earliest code in the model's `check_order` decides the answer, `details` lists them all.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from lockbox.errors import ErrorCode, FieldProblem
from lockbox.models import (
    RuleViolationError,
    check_age,
    check_email,
    check_first_name,
    check_full_name,
    check_gender,
    check_last_name,
    check_name_object,
    check_new_password,
    check_signup_email,
    check_signup_password,
    check_username,
    refusal,
)


def required() -> Any:
    """A field validated even when absent, so a missing field gets its own rule's code."""
    return Field(None, validate_default=True)


class AccountModel(BaseModel):
    # defer_build: a function builds only the models it uses, on first use, not at import.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    check_order: ClassVar[tuple[ErrorCode, ...]] = (ErrorCode.INVALID_REQUEST,)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(body)
        except ValidationError as error:
            problems: list[tuple[ErrorCode, FieldProblem]] = []
            for item in error.errors(include_url=False):
                field = ".".join(str(part) for part in item["loc"]) or "body"
                violation = (item.get("ctx") or {}).get("error")
                if isinstance(violation, RuleViolationError):
                    problems.append((violation.code, FieldProblem(field, violation.message)))
                else:  # pydantic's own checks (a nested object of the wrong type)
                    problems.append((cls.check_order[0], FieldProblem(field, item["msg"])))
            raise refusal(cls.check_order, problems) from None


class RegisterRequest(AccountModel):
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


class SignupName(AccountModel):
    firstname: Annotated[str, BeforeValidator(check_first_name)] = required()
    lastname: Annotated[str | None, BeforeValidator(check_last_name)] = None


class SignupRequest(AccountModel):
    fullname: Annotated[SignupName, BeforeValidator(check_name_object)] = required()
    email: Annotated[str, BeforeValidator(check_signup_email)] = required()
    password: Annotated[str, BeforeValidator(check_signup_password)] = required()
