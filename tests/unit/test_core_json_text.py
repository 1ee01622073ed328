"""JSON text in and out exactly: numbers keep their literal text, duplicates are refused."""

from __future__ import annotations

import pytest

from lockbox.core import json_text
from lockbox.core.json_text import JsonNumber, RawJson, UnstorableJsonError


@pytest.mark.parametrize(
    "literal",
    [
        "3.141592653589793238462643383279",
        "1.5e-400",
        "1e400",
        "-0",
        "1E+2",
        "2.50",
        "-0.0",
        "1" * 5000,
        "12",
        "-7",
    ],
)
def test_numbers_come_back_with_their_literal_text(literal: str) -> None:
    """Given a number literal inside a value, parsing and encoding give the same characters."""
    text = '{"n":' + literal + ',"a":[' + literal + "]}"

    assert json_text.encode(json_text.parse(text)) == text


def test_whitespace_between_tokens_goes_and_member_order_stays() -> None:
    """Given spaced JSON, the encoding is compact and keeps the member order."""
    parsed = json_text.parse('{ "z" : 1 , "a" : [ true , null , "x" ] }')

    assert json_text.encode(parsed) == '{"z":1,"a":[true,null,"x"]}'


def test_strings_keep_their_characters_and_escape_only_what_json_must() -> None:
    """Given Unicode, quotes and control characters, only quotes, backslashes and control
    characters are escaped."""
    parsed = json_text.parse(r'"café \u2615 \"q\" \\ \n <script>"')

    assert json_text.encode(parsed) == '"café ☕ \\"q\\" \\\\ \\n <script>"'


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '[{"b":{"c":1,"c":1}}]'])
def test_a_duplicated_member_name_cannot_be_encoded(text: str) -> None:
    """Given an object naming a member twice, at any depth, encoding refuses it."""
    with pytest.raises(UnstorableJsonError):
        json_text.encode(json_text.parse(text))


def test_integers_python_converts_stay_ints() -> None:
    """Given ordinary integers, parsing gives ints (rules such as age read them)."""
    assert json_text.parse("[0, 30, -5]") == [0, 30, -5]


def test_minus_zero_and_fractions_are_json_numbers() -> None:
    """Given -0, 30.0 and 1e2, parsing keeps each as a JsonNumber, none an integer but -0."""
    minus_zero, fraction, exponent = json_text.parse("[-0, 30.0, 1e2]")

    assert (minus_zero, fraction, exponent) == (
        JsonNumber("-0"),
        JsonNumber("30.0"),
        JsonNumber("1e2"),
    )
    assert minus_zero.is_integer()
    assert not fraction.is_integer()
    assert not exponent.is_integer()


def test_raw_json_is_written_as_it_is() -> None:
    """Given a stored value's text in a response body, it is spliced in unchanged."""
    body = {"key": "k", "value": RawJson('{"n":2.50,"m":-0}')}

    assert json_text.encode(body) == '{"key":"k","value":{"n":2.50,"m":-0}}'


def test_a_value_as_deep_as_the_parser_allows_encodes() -> None:
    """Given the deepest array the parser accepts, the encoder (iterative) writes it back."""
    depth = 1
    while True:
        try:
            json_text.parse("[" * (depth * 2) + "]" * (depth * 2))
        except RecursionError:
            break
        depth *= 2
    text = "[" * depth + "]" * depth

    assert json_text.encode(json_text.parse(text)) == text


@pytest.mark.parametrize("value", [float("inf"), float("nan"), object()])
def test_values_without_an_exact_json_form_are_refused(value: object) -> None:
    """Given a non-finite float or an unknown type, encoding refuses it."""
    with pytest.raises(UnstorableJsonError):
        json_text.encode([value])


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(
            {"status": "success", "data": {"age": 30, "ok": True, "none": None}}, id="body"
        ),
        pytest.param(["é", "\u2028", "\x00\x1f\x7f", '"\\/', "jo\ud800", "🔒"], id="characters"),
        pytest.param([10**40, -(10**40), 0, -1, False, [], {}, [[{}]]], id="scalars-and-empties"),
        pytest.param({"": {"a": [1, {"b": None}]}, "z": "y"}, id="nested"),
    ],
)
def test_plain_values_encode_as_the_iterative_encoder_writes_them(value: object) -> None:
    """Given a plain value (what responses hold), encoding gives exactly the text the
    iterative encoder writes."""
    assert json_text.encode(value) == json_text.encode_iteratively(value)


def test_a_duplicated_member_name_inside_a_plain_value_is_still_refused() -> None:
    """Given objects that named a member twice, nested in plain ones, encoding refuses them."""
    value = {"data": [json_text.parse('{"a": 1, "a": 2}')]}

    with pytest.raises(UnstorableJsonError):
        json_text.encode(value)
