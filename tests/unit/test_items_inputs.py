"""Key rules: 1 to 256 UTF-8 bytes, no '/', no control characters, no outer whitespace."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.settings import get_settings
from lockbox.items.item_inputs import STORE_BODY, UPDATE_BODY, key_reason, path_key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("a", id="one-byte"),
        pytest.param("a" * 256, id="256-ascii"),
        pytest.param("é" * 128, id="256-bytes-of-2-byte-chars"),
        pytest.param("€" * 85 + "a", id="256-bytes-of-3-byte-chars"),
        pytest.param("🔑" * 64, id="256-bytes-of-emoji"),
        pytest.param("my shopping list", id="inner-spaces"),
        pytest.param("a\u00a0b", id="inner-nbsp"),
        pytest.param("café menu", id="accents"),
        pytest.param("🔑 keys", id="emoji"),
        pytest.param("日本語のキー", id="cjk"),
        pytest.param("100%25", id="percent-sign"),
        pytest.param("a.b-c_d:e@f+g", id="punctuation"),
        pytest.param("v1..v2", id="dots"),
        pytest.param("<script>", id="markup"),
        pytest.param("a\u200db", id="zero-width-joiner"),
    ],
)
def test_valid_keys_are_accepted(key: str) -> None:
    """Given a key within the rules, when checking it, then no problem and it comes back as is."""
    assert key_reason(key) is None
    assert path_key({"pathParameters": {"key": key}}) == key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("a" * 257, id="257-ascii"),
        pytest.param("é" * 128 + "a", id="257-bytes-of-2-byte-chars"),
        pytest.param("é" * 129, id="129-two-byte-chars"),
        pytest.param("🔑" * 64 + "a", id="257-bytes-with-emoji"),
        pytest.param("€" * 86, id="258-bytes-of-3-byte-chars"),
        pytest.param("a/b", id="slash"),
        pytest.param("/", id="only-slash"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a\x01b", id="soh"),
        pytest.param("a\tb", id="tab"),
        pytest.param("a\nb", id="newline"),
        pytest.param("a\rb", id="carriage-return"),
        pytest.param("a\x1fb", id="unit-separator"),
        pytest.param("a\x7fb", id="delete"),
        pytest.param("a\x85b", id="next-line-c1"),
        pytest.param("a\x9fb", id="c1-last"),
        pytest.param(" a", id="leading-space"),
        pytest.param("a ", id="trailing-space"),
        pytest.param("\u00a0a", id="leading-nbsp"),
        pytest.param("a\u00a0", id="trailing-nbsp"),
        pytest.param("a\u2003", id="trailing-em-space"),
        pytest.param("\u3000a", id="leading-ideographic-space"),
        pytest.param(" ", id="only-space"),
        pytest.param("a\ud800", id="lone-high-surrogate"),
        pytest.param("\udfffa", id="lone-low-surrogate"),
    ],
)
def test_invalid_keys_are_refused(key: str) -> None:
    """Given a key breaking a rule, when checking it, then INVALID_KEY with a reason."""
    assert key_reason(key)

    with pytest.raises(ApiError) as caught:
        path_key({"pathParameters": {"key": key}})

    assert caught.value.code is ErrorCode.INVALID_KEY
    assert [problem.field for problem in caught.value.details] == ["key"]


@pytest.mark.parametrize("key", [None, 42, True, ["a"], {"k": "v"}, 1.5])
def test_keys_that_are_not_strings_are_refused(key: object) -> None:
    """Given a key that is not a string, the rule says it must be a non-empty string."""
    assert key_reason(key) == "Key is required and must be a non-empty string."


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("a" * 257, "Key must be at most 256 bytes in UTF-8."),
        ("a/b", "Key must not contain '/'."),
        ("a\x00", "Key must not contain control characters."),
        (" a", "Key must not start or end with whitespace."),
        ("\ud800", "Key must be valid Unicode text."),
    ],
)
def test_each_refusal_says_why(key: str, reason: str) -> None:
    """Given a key breaking one rule, the reason names that rule."""
    assert key_reason(key) == reason


def test_store_request_with_a_bad_key_is_invalid_key() -> None:
    """Given a body whose key has a slash, when parsing it, then INVALID_KEY on field key."""
    with pytest.raises(ApiError) as caught:
        STORE_BODY.from_body({"key": "a/b", "value": 1})

    assert caught.value.code is ErrorCode.INVALID_KEY
    assert [problem.field for problem in caught.value.details] == ["key"]


def test_store_request_without_a_key_is_invalid_key() -> None:
    """Given a store body without key, INVALID_KEY."""
    with pytest.raises(ApiError) as caught:
        STORE_BODY.from_body({"value": 1})

    assert caught.value.code is ErrorCode.INVALID_KEY


def test_store_request_key_wins_over_value_and_both_are_listed() -> None:
    """Given a bad key and a null value, then INVALID_KEY with both problems in details."""
    with pytest.raises(ApiError) as caught:
        STORE_BODY.from_body({"key": "", "value": None})

    assert caught.value.code is ErrorCode.INVALID_KEY
    assert [problem.field for problem in caught.value.details] == ["key", "value"]


def test_store_request_keeps_the_key_exactly() -> None:
    """Given a Unicode key with spaces, the request keeps it unchanged."""
    request = STORE_BODY.from_body({"key": "café menu 🔑", "value": "x"})

    assert request.key == "café menu 🔑"


def compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stored_form(value: object) -> str:
    """What the layer stores for a value (its compact JSON text)."""
    return UPDATE_BODY.from_body({"value": value}).value_json


def refusal(value: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        UPDATE_BODY.from_body({"value": value})
    return caught.value


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], int]:
    """Set MAX_VALUE_BYTES for one test."""

    def set_limit(size: int) -> int:
        monkeypatch.setenv("MAX_VALUE_BYTES", str(size))
        get_settings.cache_clear()
        return size

    return set_limit


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("hello", id="string"),
        pytest.param(" ", id="single-space"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("café ☕ 🔑", id="unicode"),
        pytest.param("a\x00b\n\t\"'\\", id="control-and-escapes"),
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(10**30, id="big-int"),
        pytest.param(3.14159, id="float"),
        pytest.param(0.0, id="float-zero"),
        pytest.param(1e308, id="huge-finite-float"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param([], id="empty-array"),
        pytest.param({}, id="empty-object"),
        pytest.param([None], id="array-holding-null"),
        pytest.param({"a": None}, id="object-holding-null"),
        pytest.param({"a": ""}, id="object-holding-empty-string"),
        pytest.param([1, "two", 3.0, True, None, {"six": [6]}], id="mixed-array"),
        pytest.param({"nested": {"deeper": {"list": [1, 2, {"x": "y"}]}}}, id="nested-object"),
    ],
)
def test_every_json_type_is_accepted_and_stored_as_compact_json(value: object) -> None:
    """Given a JSON value other than null and "", then it is stored as its compact JSON."""
    assert stored_form(value) == compact(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="null"),
        pytest.param("", id="empty-string"),
    ],
)
def test_null_and_empty_string_are_invalid_value(value: object) -> None:
    """Given null or "", INVALID_VALUE on field value."""
    error = refusal(value)

    assert error.code is ErrorCode.INVALID_VALUE
    assert [problem.field for problem in error.details] == ["value"]


def test_missing_value_is_invalid_value() -> None:
    """Given a body without "value", then INVALID_VALUE (not INVALID_REQUEST)."""
    with pytest.raises(ApiError) as caught:
        UPDATE_BODY.from_body({"val": 1})

    assert caught.value.code is ErrorCode.INVALID_VALUE
    assert [problem.field for problem in caught.value.details] == ["value"]


def test_value_json_field_name_is_not_an_alias_for_value() -> None:
    """Given the internal field name instead of "value", then the value is still missing."""
    with pytest.raises(ApiError) as caught:
        UPDATE_BODY.from_body({"value_json": '"x"'})

    assert caught.value.code is ErrorCode.INVALID_VALUE


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("inf"), id="infinity-from-1e400"),
        pytest.param(float("-inf"), id="minus-infinity"),
        pytest.param(float("nan"), id="nan"),
        pytest.param([1, float("inf")], id="infinity-inside-array"),
        pytest.param({"n": json.loads("1e400")}, id="1e400-inside-object"),
    ],
)
def test_numbers_json_cannot_carry_are_invalid_value(value: object) -> None:
    """Given Infinity or NaN (e.g. from 1e400), anywhere in the value, INVALID_VALUE."""
    assert refusal(value).code is ErrorCode.INVALID_VALUE


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("\ud800", id="lone-high-surrogate"),
        pytest.param("ok\udfff", id="lone-low-surrogate"),
        pytest.param(["\ud83d"], id="surrogate-in-array"),
        pytest.param({"\ud800": 1}, id="surrogate-in-object-key"),
    ],
)
def test_lone_surrogates_are_invalid_value(value: object) -> None:
    """Given text UTF-8 cannot encode (JSON "\\ud800"), then INVALID_VALUE."""
    assert refusal(value).code is ErrorCode.INVALID_VALUE


def test_surrogate_pair_is_one_valid_character() -> None:
    """Given a surrogate pair escape, it is one emoji, stored as UTF-8."""
    value = json.loads('"\\ud83d\\udd11"')

    assert stored_form(value) == '"🔑"'


def test_default_limit_is_64_kib() -> None:
    """Given the default 65536 bytes, a string of exactly that JSON size passes, one more fails."""
    exactly = "a" * (65536 - 2)  # the two quotes count

    assert len(stored_form(exactly).encode()) == 65536
    assert refusal(exactly + "a").code is ErrorCode.INVALID_VALUE


@pytest.mark.parametrize(
    ("value", "size"),
    [
        pytest.param({"a": 1}, 7, id="compact-object"),
        pytest.param([1, 2, 3], 7, id="compact-array"),
        pytest.param("é" * 10, 22, id="two-byte-chars"),
        pytest.param("🔑" * 5, 22, id="four-byte-chars"),
        pytest.param('"q"', 7, id="escaped-quotes"),
        pytest.param("a\nb", 6, id="escaped-newline"),
        pytest.param(12345, 5, id="number"),
        pytest.param(True, 4, id="boolean"),
    ],
)
def test_size_boundary_counts_compact_json_in_utf8(
    limit: Callable[[int], int], value: object, size: int
) -> None:
    """Given a limit of exactly the value's compact UTF-8 JSON size it passes; one less fails."""
    limit(size)
    assert stored_form(value) == compact(value)

    limit(size - 1)
    assert refusal(value).code is ErrorCode.INVALID_VALUE


def test_size_limit_problem_names_the_limit(limit: Callable[[int], int]) -> None:
    """Given a value over MAX_VALUE_BYTES, the problem message names the limit."""
    limit(10)

    error = refusal("x" * 20)

    assert [problem.message for problem in error.details] == [
        "Value must be at most 10 bytes as JSON."
    ]
