"""Error codes (the contract's table, literally) and the one response envelope."""

from __future__ import annotations

import json

import pytest

from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.responses import (
    ContractEnvelope,
    Success,
    error_body,
    json_response,
    success_body,
    to_json,
)

# SPEC.md "Status codes and error codes", copied verbatim: the code must match it exactly.
SPEC_TABLE = [
    (
        "INVALID_REQUEST",
        400,
        "Invalid request. Please provide all required fields: username, email, password, full_name.",
    ),
    (
        "USERNAME_EXISTS",
        409,
        "The provided username is already taken. Please choose a different username.",
    ),
    (
        "EMAIL_EXISTS",
        409,
        "The provided email is already registered. Please use a different email address.",
    ),
    ("INVALID_PASSWORD", 400, "The provided password does not meet the requirements."),
    ("INVALID_AGE", 400, "Invalid age value. Age must be a positive integer."),
    (
        "GENDER_REQUIRED",
        400,
        "Gender field is required. Please specify the gender (e.g., male, female, non-binary).",
    ),
    ("MISSING_FIELDS", 400, "Missing fields. Please provide both username and password."),
    (
        "INVALID_CREDENTIALS",
        401,
        "Invalid credentials. The provided username or password is incorrect.",
    ),
    ("INVALID_KEY", 400, "The provided key is not valid or missing."),
    ("INVALID_VALUE", 400, "The provided value is not valid or missing."),
    (
        "KEY_EXISTS",
        409,
        "The provided key already exists in the database. To update an existing key, use the update API.",
    ),
    ("KEY_NOT_FOUND", 404, "The provided key does not exist in the database."),
    ("INVALID_TOKEN", 401, "Invalid access token provided."),
    ("INVALID_REFRESH_TOKEN", 401, "Invalid or expired refresh token."),
    (
        "INVALID_TTL",
        400,
        "The provided ttl is not valid. It must be a whole number of seconds from 1 to 31536000.",
    ),
    ("INVALID_PARAMETER", 400, "A query parameter is not valid."),
    (
        "PRECONDITION_FAILED",
        412,
        "The key was changed by another request. Read it again and retry.",
    ),
    ("MFA_REQUIRED", 401, "A second factor is required."),
    ("INVALID_MFA_CODE", 401, "The code is not valid."),
    ("MFA_ALREADY_ENABLED", 409, "Two-factor authentication is already on."),
    ("MFA_NOT_ENABLED", 409, "Two-factor authentication is not on."),
    ("INVALID_EMAIL_TOKEN", 400, "The link is invalid, has expired or was already used."),
    ("EMAIL_NOT_VERIFIED", 403, "Please verify your email address first."),
    ("SESSION_NOT_FOUND", 404, "The session does not exist or has ended."),
    (
        "INVALID_METADATA",
        400,
        "The provided metadata is not valid. It must be a JSON object of at most 1024 bytes.",
    ),
    ("VALUE_NOT_A_NUMBER", 409, "The stored value is not a number."),
    ("NOT_FOUND", 404, "The requested resource was not found."),
    ("TOO_MANY_REQUESTS", 429, "Too many requests. Please try again later."),
    ("INTERNAL_ERROR", 500, "An internal server error occurred. Please try again later."),
]


@pytest.mark.parametrize(("name", "status", "message"), SPEC_TABLE)
def test_each_code_has_the_contract_status_and_message(
    name: str, status: int, message: str
) -> None:
    """Given a row of the contract's table, the code of that name has its status and message."""
    code = ErrorCode[name]

    assert (code.status, code.message) == (status, message)


def test_there_are_no_codes_beyond_the_contract() -> None:
    """Given the table, the enum holds exactly its codes, in its order."""
    assert [code.name for code in ErrorCode] == [row[0] for row in SPEC_TABLE]


@pytest.mark.parametrize(("name", "status", "message"), SPEC_TABLE)
def test_error_body_without_details(name: str, status: int, message: str) -> None:
    """Given a code and no details, the body is status, code and message, and nothing more."""
    assert error_body(ErrorCode[name]) == {"status": "error", "code": name, "message": message}


def test_error_body_with_details_lists_every_problem_in_order() -> None:
    """Given two field problems, the body carries both as {field, message}, in order."""
    details = [
        Detail(field="username", message="too short"),
        Detail(field="email", message="not an address"),
    ]

    body = error_body(ErrorCode.INVALID_REQUEST, details)

    assert body["details"] == [
        {"field": "username", "message": "too short"},
        {"field": "email", "message": "not an address"},
    ]


def test_empty_details_are_left_out() -> None:
    """Given an empty details list, the body has no details key at all."""
    assert "details" not in error_body(ErrorCode.INVALID_KEY, [])


def test_success_with_message_and_data() -> None:
    """Given a message and data, the body carries both after status success."""
    result = Success(message="Done.", data={"a": 1})

    assert success_body(result) == {"status": "success", "message": "Done.", "data": {"a": 1}}


def test_success_with_message_only_has_no_data_key() -> None:
    """Given only a message (store, update, delete), the body has no data key."""
    assert success_body(Success(message="Data stored successfully.")) == {
        "status": "success",
        "message": "Data stored successfully.",
    }


def test_success_with_data_only_has_no_message_key() -> None:
    """Given only data (GET), the body has no message key."""
    assert success_body(Success(data={"key": "k", "value": 1})) == {
        "status": "success",
        "data": {"key": "k", "value": 1},
    }


# JSON, readable by a front end on any origin (ALLOWED_ORIGIN "*", the contract's default).
JSON_FOR_ANY_ORIGIN = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Retry-After",
}


def test_response_allows_the_configured_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given ALLOWED_ORIGIN set to one origin, every response names that origin."""
    monkeypatch.setenv("ALLOWED_ORIGIN", "https://app.example.com")

    headers = ContractEnvelope().refusal(ApiError(ErrorCode.NOT_FOUND))["headers"]

    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_success_response_is_a_proxy_response_with_json_content_type() -> None:
    """Given a success, the proxy response is 200, application/json, and the body as JSON."""
    response = ContractEnvelope().success(Success(message="ok", data={"n": 1}))

    assert response["statusCode"] == 200
    assert response["headers"] == JSON_FOR_ANY_ORIGIN
    assert json.loads(response["body"]) == {"status": "success", "message": "ok", "data": {"n": 1}}


@pytest.mark.parametrize(("name", "status", "message"), SPEC_TABLE)
def test_error_response_uses_the_code_status(name: str, status: int, message: str) -> None:
    """Given any code, the proxy response has its status, JSON headers and envelope."""
    response = ContractEnvelope().refusal(ApiError(ErrorCode[name]))

    assert response["statusCode"] == status
    assert response["headers"] == JSON_FOR_ANY_ORIGIN
    assert json.loads(response["body"]) == {"status": "error", "code": name, "message": message}


def test_error_response_carries_details() -> None:
    """Given field problems, the response body lists them under details."""
    error = ApiError(ErrorCode.INVALID_VALUE, [Detail(field="value", message="null")])

    body = json.loads(ContractEnvelope().refusal(error)["body"])

    assert body["details"] == [{"field": "value", "message": "null"}]


def test_headers_are_a_fresh_copy_each_time() -> None:
    """Given one response's headers changed, the next response still has the original ones."""
    first = json_response(200, {})
    first["headers"]["X-Extra"] = "1"

    assert json_response(200, {})["headers"] == JSON_FOR_ANY_ORIGIN


def test_unicode_is_not_ascii_escaped() -> None:
    """Given non-ASCII text, the JSON carries the characters themselves, not \\u escapes."""
    text = to_json({"value": "café ☕ 🔑 日本"})

    assert text == '{"value":"café ☕ 🔑 日本"}'


def test_json_is_compact() -> None:
    """Given a body, it is encoded without spaces after separators."""
    assert to_json({"a": [1, 2], "b": {"c": None}}) == '{"a":[1,2],"b":{"c":null}}'


def test_html_is_not_escaped() -> None:
    """Given markup in a value, it is returned byte for byte."""
    assert to_json("<script>alert(1)</script>") == '"<script>alert(1)</script>"'


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_json_numbers_are_never_emitted(number: float) -> None:
    """Given NaN or Infinity, the encoder refuses rather than emit non-JSON text."""
    with pytest.raises(ValueError, match="JSON"):
        to_json({"n": number})


def test_api_error_str_is_the_code_name() -> None:
    """Given an ApiError, its text is the code name (never a message built from input)."""
    assert str(ApiError(ErrorCode.KEY_EXISTS)) == "KEY_EXISTS"


def test_api_error_without_details_has_an_empty_list() -> None:
    """Given no details, the error holds an empty list (never None)."""
    assert ApiError(ErrorCode.KEY_EXISTS).details == []


def test_only_mfa_required_carries_data_in_the_envelope() -> None:
    """Given an ApiError with data (MFA_REQUIRED's mfa_token), the envelope carries it as
    `data` beside the code and message."""
    error = ApiError(ErrorCode.MFA_REQUIRED, data={"mfa_token": "t", "expires_in": 300})

    body = json.loads(ContractEnvelope().refusal(error)["body"])

    assert body == {
        **error_body(ErrorCode.MFA_REQUIRED),
        "data": {"mfa_token": "t", "expires_in": 300},
    }
