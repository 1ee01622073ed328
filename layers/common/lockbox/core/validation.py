"""The validation framework every call's input parser uses.

A rule is a function that returns a field's value or raises RuleViolation with the error
code it answers. An input model runs the rule of every field, so one pass finds every
violation (for `details`), and the earliest code in its `check_order` decides the answer.

The token and data calls use PlainInput, without pydantic: even pydantic-core's import
would cost their cold start (measured in bench/). The registration inputs, with more fields
and rules and a nested object, are pydantic-core schemas (lockbox.accounts.registration_inputs)
whose rules raise the same RuleViolation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from lockbox.core.errors import ApiError, Detail, ErrorCode


class RuleViolation(ValueError):  # noqa: N818 (a rule's verdict, caught like a ValueError)
    """A field breaks one of the contract's rules; `code` is the error it answers with."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def refuse_if(reason: str | None, code: ErrorCode) -> None:
    """Raise RuleViolation(code, reason) where a rule found a reason to refuse."""
    if reason:
        raise RuleViolation(code, reason)


def refusal(
    check_order: Sequence[ErrorCode], violations: list[tuple[ErrorCode, Detail]]
) -> ApiError:
    """The ApiError for these violations: the earliest code in check_order, every detail."""
    first = min((code for code, _ in violations), key=check_order.index)
    return ApiError(first, [detail for _, detail in violations])


def is_valid_unicode(text: str) -> bool:
    """False for strings with lone surrogates, which JSON allows but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# General category Cc: C0, DEL and C1, a set Unicode's stability policy never changes. One
# regex search rather than a category lookup per character of every checked field.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_character(text: str) -> bool:
    return _CONTROL_CHARACTER.search(text) is not None


def control_reason(text: str, label: str) -> str | None:
    """Why text with a control character (NUL included) is refused, or None."""
    return f"{label} must not contain control characters." if has_control_character(text) else None


def present_text(value: object, label: str, code: ErrorCode) -> str:
    """A string that is there and not blank."""
    if value is None:
        raise RuleViolation(code, f"{label} is required.")
    if not isinstance(value, str):
        raise RuleViolation(code, f"{label} must be a string.")
    if not value.strip():
        raise RuleViolation(code, f"{label} must not be blank.")
    return value


def required_text(value: object, label: str, code: ErrorCode) -> str:
    """A string that is there, not blank, and storable (encodable as UTF-8)."""
    text = present_text(value, label, code)
    if not is_valid_unicode(text):
        raise RuleViolation(code, f"{label} must be valid Unicode text.")
    return text


ABSENT: Any = object()  # what an optional field's rule gets when the field is not sent


class FieldRule(NamedTuple):
    field: str  # as the client names it
    attribute: str  # on the model
    check: Callable[[object], Any]
    absent: Any = None  # what `check` gets for a missing field (ABSENT: tell it from null)


class PlainInput[Model]:
    """The checker of an input model's body: the rule of every field, in order, all of
    them; the earliest code in `check_order` answers. The model is a NamedTuple: a class
    statement that costs a tenth of a dataclass's at import (docs/performance.md)."""

    __slots__ = ("check_order", "model", "rules")

    def __init__(
        self,
        model: Callable[..., Model],
        rules: tuple[FieldRule, ...],
        check_order: tuple[ErrorCode, ...],
    ) -> None:
        self.model = model
        self.rules = rules
        self.check_order = check_order

    def from_body(self, body: dict[str, Any], **known: Any) -> Model:
        """The model of a checked body; `known` are its fields from elsewhere in the
        request (the caller, a header)."""
        values: dict[str, Any] = {}
        violations: list[tuple[ErrorCode, Detail]] = []
        for rule in self.rules:
            try:
                values[rule.attribute] = rule.check(body.get(rule.field, rule.absent))
            except RuleViolation as violation:
                violations.append((violation.code, Detail(rule.field, violation.reason)))
        if violations:
            raise refusal(self.check_order, violations)
        return self.model(**values, **known)
