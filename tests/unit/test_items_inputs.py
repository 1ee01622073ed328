"""Key rules: 1 to 256 UTF-8 bytes, no '/', no control characters, no outer whitespace."""

from __future__ import annotations

import pytest

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.items.item_inputs import StoreFields, key_reason, path_key


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
        StoreFields.from_body({"key": "a/b", "value": 1})

    assert caught.value.code is ErrorCode.INVALID_KEY
    assert [problem.field for problem in caught.value.details] == ["key"]


def test_store_request_without_a_key_is_invalid_key() -> None:
    """Given a store body without key, INVALID_KEY."""
    with pytest.raises(ApiError) as caught:
        StoreFields.from_body({"value": 1})

    assert caught.value.code is ErrorCode.INVALID_KEY


def test_store_request_key_wins_over_value_and_both_are_listed() -> None:
    """Given a bad key and a null value, then INVALID_KEY with both problems in details."""
    with pytest.raises(ApiError) as caught:
        StoreFields.from_body({"key": "", "value": None})

    assert caught.value.code is ErrorCode.INVALID_KEY
    assert [problem.field for problem in caught.value.details] == ["key", "value"]


def test_store_request_keeps_the_key_exactly() -> None:
    """Given a Unicode key with spaces, the request keeps it unchanged."""
    request = StoreFields.from_body({"key": "café menu 🔑", "value": "x"})

    assert request.key == "café menu 🔑"
