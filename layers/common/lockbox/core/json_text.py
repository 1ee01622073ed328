"""JSON text in and out, exactly: numbers keep their literal text from request to storage to
response (SPEC.md, "Data": `1.5e-400`, `-0`, `1E+2` and `2.50` come back as sent).

Python's json module would turn every number into an int or a double: `2.50` into 2.5,
`1e400` into inf. Here a number that an int cannot hold exactly is a JsonNumber carrying its
text, and the encoder writes that text back. Stored values go into responses as RawJson:
the stored text itself, never parsed and encoded again.
"""

from __future__ import annotations

import json
import math
import sys
from json.encoder import encode_basestring
from typing import Any


class JsonNumber:
    """A JSON number as written: any fraction or exponent, `-0`, or more digits than
    Python converts to an int (sys.get_int_max_str_digits(), a guard against slow parsing)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def is_integer(self) -> bool:
        """Written as a JSON integer: no fraction, no exponent."""
        return not any(mark in self.text for mark in ".eE")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"


class DuplicateMembers(dict[str, Any]):
    """An object that named a member twice. It parses (the last one wins, as JSON parsers
    do) but cannot be stored exactly, so the encoder refuses it."""


class RawJson:
    """JSON text written into a response as it is (a stored value)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class NotJsonError(ValueError):
    """The text is not JSON (NaN and Infinity included, whatever Python accepts)."""


class UnstorableJsonError(ValueError):
    """The value parsed but cannot be written back exactly."""


def _parse_int(digits: str) -> int | JsonNumber:
    # "-0" is the one integer literal whose int() reads differently; long ones stay text.
    if digits == "-0" or len(digits) - digits.startswith("-") > sys.get_int_max_str_digits() > 0:
        return JsonNumber(digits)
    return int(digits)


def _reject_constant(name: str) -> None:
    raise NotJsonError(f"{name} is not valid JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    return members if len(members) == len(pairs) else DuplicateMembers(members)


def parse(text: str) -> Any:
    """The JSON value of the text; json.JSONDecodeError or NotJsonError if it is not JSON,
    RecursionError if it nests deeper than the parser goes."""
    return json.loads(
        text,
        parse_int=_parse_int,
        parse_float=JsonNumber,
        parse_constant=_reject_constant,
        object_pairs_hook=_object,
    )


def encode(value: object) -> str:
    """Compact JSON text (no whitespace, characters unescaped), numbers as written.

    Iterative, so a value as deep as the parser accepts encodes without recursion.
    UnstorableJsonError for an object with a duplicated member name, a non-finite float,
    or a type JSON has no form for.
    """
    if _is_plain(value):
        try:
            # The same text, from the C encoder: responses are plain, and 5 times faster so.
            return _PLAIN_ENCODER.encode(value)
        except RecursionError:  # deeper than the C encoder goes
            pass
    return encode_iteratively(value)


def encode_iteratively(value: object) -> str:
    """`encode`, every value written here."""
    parts: list[str] = []
    pending: list[object] = [value]  # values still to write, and _Text to write as it is
    while pending:
        item = pending.pop()
        if isinstance(item, _Text):
            parts.append(item)
        elif isinstance(item, dict):
            pending += _object_parts(item)
        elif isinstance(item, list | tuple):
            pending += _array_parts(item)
        else:
            parts.append(_scalar(item))
    return "".join(parts)


_PLAIN_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _is_plain(value: object) -> bool:
    """Only exact dicts with string names, lists, strings, ints, booleans and nulls: values
    json's C encoder writes exactly as `encode` does (not DuplicateMembers, which it must
    refuse, nor floats, JsonNumber or RawJson, which it writes its own way)."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(name) is str for name in item):
                return False
            pending += item.values()
        elif kind is list:
            pending += item
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


class _Text(str):
    """Punctuation and member names, already encoded."""

    __slots__ = ()


_OPEN_OBJECT, _CLOSE_OBJECT = _Text("{"), _Text("}")
_OPEN_ARRAY, _CLOSE_ARRAY, _COMMA = _Text("["), _Text("]"), _Text(",")


def _object_parts(value: dict[str, Any]) -> list[object]:
    """What to push for an object, in reverse (the stack pops the last first)."""
    if isinstance(value, DuplicateMembers):
        raise UnstorableJsonError("an object names a member twice")
    parts: list[object] = [_OPEN_OBJECT]
    for name, member in value.items():
        if len(parts) > 1:
            parts.append(_COMMA)
        parts += [_Text(encode_basestring(name) + ":"), member]
    parts.append(_CLOSE_OBJECT)
    return parts[::-1]


def _array_parts(value: list[Any] | tuple[Any, ...]) -> list[object]:
    parts: list[object] = [_OPEN_ARRAY]
    for element in value:
        if len(parts) > 1:
            parts.append(_COMMA)
        parts.append(element)
    parts.append(_CLOSE_ARRAY)
    return parts[::-1]


def _scalar(value: object) -> str:
    # bool before int: a bool is an int in Python.
    if isinstance(value, str):
        return str(encode_basestring(value))
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, JsonNumber | RawJson):
        return value.text
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    raise UnstorableJsonError(f"{value!r} has no exact JSON form")


def number_text(value: object) -> str | None:
    """The literal text of a parsed JSON number, or None for anything else (booleans too)."""
    if isinstance(value, JsonNumber):
        return value.text
    if type(value) is int:
        return int.__repr__(value)
    return None


class NumberTooLongError(ValueError):
    """An exact result would need more characters than allowed."""


def exact_sum(first: str, second: str, max_chars: int) -> str:
    """first + second, two JSON number texts, exactly (decimal, never through a double):
    `0.1` + `0.2` is `0.3`. NumberTooLongError when the exact result could take more than
    `max_chars` digits (`1e400000` + `1`), so the work stays bounded."""
    from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Inexact

    a, b = Decimal(first), Decimal(second)
    # The exact sum's digits span from the lower exponent to one above the higher leading digit.
    lowest = min(int(a.as_tuple().exponent), int(b.as_tuple().exponent))
    span = max(a.adjusted(), b.adjusted()) - lowest + 2
    if span > max_chars:
        raise NumberTooLongError
    exact = Context(prec=span, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])
    return str(exact.add(a, b))


def merge_patch(target: object, patch: object) -> object:
    """RFC 7396's MergePatch(target, patch): null members remove, objects merge member by
    member, anything else replaces. The target is not changed; a new value is returned."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged
