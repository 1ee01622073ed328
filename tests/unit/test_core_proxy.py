"""Reading API Gateway REST (v1) proxy events: the JSON body, the path key, the caller."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.json_text import JsonNumber
from lockbox.core.proxy import caller_id, json_body
from lockbox.items.item_inputs import path_key


def event_with(body: Any, *, base64_encoded: bool = False) -> dict[str, Any]:
    return {"body": body, "isBase64Encoded": base64_encoded}


def b64(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


def test_json_object_body_is_returned() -> None:
    """Given an object body, when parsing, then the dict comes back as sent."""
    body = json_body(event_with('{"username": "jo", "nested": {"a": [1, 2.5, true, null]}}'))

    assert body == {"username": "jo", "nested": {"a": [1, JsonNumber("2.5"), True, None]}}


def test_empty_object_is_an_object() -> None:
    """Given {}, the body is an empty dict (validation happens later)."""
    assert json_body(event_with("{}")) == {}


def test_unicode_body_is_kept() -> None:
    """Given escaped and literal Unicode, both decode to the same text."""
    assert json_body(event_with('{"k": "café \\u2615 🔑"}')) == {"k": "café ☕ 🔑"}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[]", id="empty-array"),
        pytest.param('[{"username": "jo"}]', id="array"),
        pytest.param('"a string"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("true", id="boolean"),
        pytest.param("null", id="json-null"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="whitespace"),
        pytest.param('{"username": "jo",', id="truncated"),
        pytest.param("{'username': 'jo'}", id="single-quotes"),
        pytest.param('{"a": 1} trailing', id="trailing-garbage"),
        pytest.param("username=jo&password=x", id="form-encoded"),
        pytest.param('{"a": NaN}', id="nan"),
        pytest.param('{"a": Infinity}', id="infinity"),
        pytest.param('{"a": -Infinity}', id="minus-infinity"),
        pytest.param("NaN", id="bare-nan"),
        pytest.param(None, id="no-body"),
    ],
)
def test_anything_but_a_json_object_is_invalid_request(raw: str | None) -> None:
    """Given a body that is not a JSON object, when parsing, then INVALID_REQUEST."""
    with pytest.raises(ApiError) as caught:
        json_body(event_with(raw))

    assert caught.value.code is ErrorCode.INVALID_REQUEST


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="arrays"),
        pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, id="objects"),
        pytest.param('{"key": "k", "value": ' + "[" * 100_000 + "]" * 100_000 + "}", id="value"),
    ],
)
def test_deep_nesting_is_invalid_request_not_recursion_error(raw: str) -> None:
    """Given 100000 levels of nesting, when parsing, then INVALID_REQUEST (no RecursionError)."""
    with pytest.raises(ApiError) as caught:
        json_body(event_with(raw))

    assert caught.value.code is ErrorCode.INVALID_REQUEST


def test_valid_json_too_deep_for_the_parser_answers_the_callers_code() -> None:
    """Given a valid JSON object nested too deep for the parser, then the caller's code."""
    raw = '{"value": ' + "[" * 100_000 + "]" * 100_000 + "}"

    with pytest.raises(ApiError) as caught:
        json_body(event_with(raw), too_deep=ErrorCode.INVALID_VALUE)

    assert caught.value.code is ErrorCode.INVALID_VALUE


def test_integer_too_long_to_convert_is_kept_for_the_fields_own_rule() -> None:
    """Given an integer over Python's conversion limit, then the body parses and the
    field holds a JsonNumber with its digits (neither int nor str), for the field's rule."""
    body = json_body(event_with('{"age": ' + "9" * 5000 + "}"))

    assert body["age"] == JsonNumber("9" * 5000)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"value": [1,', id="malformed"),
        pytest.param('{"value": NaN}', id="nan"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep-array-not-an-object"),
    ],
)
def test_broken_json_stays_invalid_request_whatever_the_callers_code(raw: str) -> None:
    """Given malformed JSON or NaN, INVALID_REQUEST even where too-complex JSON is INVALID_VALUE."""
    with pytest.raises(ApiError) as caught:
        json_body(event_with(raw), too_deep=ErrorCode.INVALID_VALUE)

    assert caught.value.code is ErrorCode.INVALID_REQUEST


def test_base64_encoded_object_is_decoded() -> None:
    """Given isBase64Encoded and a base64 object, when parsing, then the object."""
    assert json_body(event_with(b64('{"key": "café"}'), base64_encoded=True)) == {"key": "café"}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("not base64!", id="not-base64"),
        pytest.param("eyJhIjox", id="base64-of-truncated-json"),
        pytest.param(b64(b'{"a": "\xff\xfe"}'), id="base64-of-invalid-utf8"),
        pytest.param(b64("[1, 2]"), id="base64-of-array"),
    ],
)
def test_bad_base64_bodies_are_invalid_request(raw: str) -> None:
    """Given a base64 body that is not base64 of a UTF-8 JSON object, INVALID_REQUEST."""
    with pytest.raises(ApiError) as caught:
        json_body(event_with(raw, base64_encoded=True))

    assert caught.value.code is ErrorCode.INVALID_REQUEST


def test_body_that_is_not_text_is_invalid_request() -> None:
    """Given a body that is already a dict (not proxy-shaped), then INVALID_REQUEST, no crash."""
    with pytest.raises(ApiError) as caught:
        json_body(event_with({"key": "k"}))

    assert caught.value.code is ErrorCode.INVALID_REQUEST


def test_path_key_is_returned_as_decoded_by_api_gateway() -> None:
    """Given pathParameters from API Gateway, the key is used as is, never decoded again."""
    event = {"pathParameters": {"key": "100%25 done%2F"}}

    assert path_key(event) == "100%25 done%2F"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="no-path-parameters"),
        pytest.param({"pathParameters": None}, id="null-path-parameters"),
        pytest.param({"pathParameters": {}}, id="no-key"),
        pytest.param({"pathParameters": {"key": None}}, id="null-key"),
    ],
)
def test_missing_path_key_is_invalid_key(event: dict[str, Any]) -> None:
    """Given no {key} path parameter, INVALID_KEY."""
    with pytest.raises(ApiError) as caught:
        path_key(event)

    assert caught.value.code is ErrorCode.INVALID_KEY


def test_caller_is_the_authorizer_user_id() -> None:
    """Given the authorizer's context, the caller is its user_id."""
    event = {"requestContext": {"authorizer": {"user_id": "u-1", "principalId": "u-1"}}}

    assert caller_id(event) == "u-1"


def test_caller_is_never_taken_from_the_body_or_headers() -> None:
    """Given a user id only in places the client controls, then INVALID_TOKEN."""
    event = {
        "body": '{"user_id": "victim"}',
        "headers": {"user_id": "victim"},
        "requestContext": {},
    }

    with pytest.raises(ApiError) as caught:
        caller_id(event)

    assert caught.value.code is ErrorCode.INVALID_TOKEN


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="no-request-context"),
        pytest.param({"requestContext": None}, id="null-request-context"),
        pytest.param({"requestContext": {"authorizer": None}}, id="null-authorizer"),
        pytest.param({"requestContext": {"authorizer": {}}}, id="empty-authorizer"),
        pytest.param({"requestContext": {"authorizer": {"user_id": ""}}}, id="blank-user-id"),
        pytest.param({"requestContext": {"authorizer": {"user_id": 7}}}, id="numeric-user-id"),
        pytest.param({"requestContext": {"authorizer": {"principalId": "u"}}}, id="principal-only"),
    ],
)
def test_missing_authorizer_context_is_invalid_token(event: dict[str, Any]) -> None:
    """Given no usable user_id from the authorizer, INVALID_TOKEN."""
    with pytest.raises(ApiError) as caught:
        caller_id(event)

    assert caught.value.code is ErrorCode.INVALID_TOKEN
