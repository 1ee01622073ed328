"""POST /api/token through its Lambda handler, against moto and the secrets extension stand-in."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from lockbox.accounts import passwords
from lockbox.core.errors import ErrorCode
from tests.handlers.calls import (
    USER,
    call,
    error,
    load_event,
    register,
    token,
    token_handler,
    with_body,
    without_details,
)


@pytest.fixture
def user_id(aws_tables: Any, lambda_context: Any) -> str:
    """The id of the account of events/register_success.json, registered in moto."""
    status, body = register(lambda_context)
    assert status == 200
    return str(body["data"]["user_id"])


def test_success_answers_the_token_envelope(user_id: str, lambda_context: Any) -> None:
    """Given a registered user, when asking for a token, then 200 with a Bearer JWT for 3600 s."""
    status, body = call(token_handler, load_event("token_success"), lambda_context)

    assert status == 200
    assert body["message"] == "Access token generated successfully."
    assert set(body["data"]) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["data"]["refresh_expires_in"] == 2592000
    assert body["data"]["token_type"] == "Bearer"
    assert type(body["data"]["expires_in"]) is int
    assert body["data"]["expires_in"] == 3600


def test_access_token_is_a_jwt_with_every_claim(
    user_id: str, lambda_context: Any, jwt_signing_key: str
) -> None:
    """Given a login, the access token is an HS256 JWT with every claim, for this user."""
    _, body = call(token_handler, load_event("token_success"), lambda_context)
    token_text = body["data"]["access_token"]

    claims = jwt.decode(
        token_text,
        jwt_signing_key,
        algorithms=["HS256"],
        audience="lockbox-api-clients",
        issuer="lockbox-api/test",
    )

    assert jwt.get_unverified_header(token_text)["alg"] == "HS256"
    assert set(claims) == {"sub", "iat", "exp", "iss", "aud", "jti", "sid"}
    assert claims["sub"] == user_id
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]


@pytest.mark.parametrize(
    "login",
    ["johndoe", "JOHNDOE", "john.doe@example.com", "John.Doe@Example.COM"],
)
def test_login_by_username_or_email_in_any_case(
    user_id: str, lambda_context: Any, jwt_signing_key: str, login: str
) -> None:
    """Given the username or the email in any case, the token is for the account."""
    status, body = token(lambda_context, login, USER["password"])

    assert status == 200
    claims = jwt.decode(
        body["data"]["access_token"],
        jwt_signing_key,
        algorithms=["HS256"],
        audience="lockbox-api-clients",
    )
    assert claims["sub"] == user_id


def test_token_by_email_event(user_id: str, lambda_context: Any) -> None:
    """Given events/token_by_email.json, a token is issued."""
    status, _ = call(token_handler, load_event("token_by_email"), lambda_context)

    assert status == 200


def test_two_logins_get_different_tokens(user_id: str, lambda_context: Any) -> None:
    """Given two logins, two different tokens (distinct jti)."""
    _, first = token(lambda_context, "johndoe", USER["password"])
    _, second = token(lambda_context, "johndoe", USER["password"])

    assert first["data"]["access_token"] != second["data"]["access_token"]


@pytest.mark.parametrize("event_name", ["token_wrong_password", "token_unknown_user"])
def test_bad_credentials_answer_invalid_credentials(
    user_id: str, lambda_context: Any, event_name: str
) -> None:
    """Given a wrong password or an unknown user, INVALID_CREDENTIALS."""
    assert call(token_handler, load_event(event_name), lambda_context) == error(
        ErrorCode.INVALID_CREDENTIALS
    )


def test_unknown_user_and_wrong_password_get_identical_responses(
    user_id: str, lambda_context: Any
) -> None:
    """Given an unknown user and a wrong password, the two responses are byte for byte equal."""
    unknown = token_handler(load_event("token_unknown_user"), lambda_context)
    wrong = token_handler(load_event("token_wrong_password"), lambda_context)

    assert unknown == wrong


@pytest.mark.parametrize(
    ("login", "password"),
    [
        pytest.param("johndoe", "secure_password123" + "x" * 60, id="password-over-72-bytes"),
        pytest.param("johndoe", "SECURE_PASSWORD123", id="password-case-differs"),
        pytest.param("john.doe@example.org", "secure_password123", id="unknown-email"),
        pytest.param("x" * 300, "secure_password123", id="login-over-254-chars"),
        pytest.param("john\ud800", "secure_password123", id="login-lone-surrogate"),
        pytest.param("johndoe", "secure\ud800", id="password-lone-surrogate"),
        pytest.param("USER#johndoe", "secure_password123", id="raw-key-prefix"),
    ],
)
def test_other_credential_failures_are_invalid_credentials(
    user_id: str, lambda_context: Any, login: str, password: str
) -> None:
    """Given credentials that match no account, INVALID_CREDENTIALS (never another code)."""
    assert token(lambda_context, login, password) == error(ErrorCode.INVALID_CREDENTIALS)


def test_unknown_user_still_costs_one_bcrypt_check(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an unknown user, one bcrypt check runs (about the latency of a real one)."""
    checks: list[bytes] = []
    real = passwords.bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)

    token(lambda_context, "nobody_here", "secure_password123")

    assert len(checks) == 1
    assert checks[0].startswith(b"$2b$04$")


def test_password_over_72_bytes_matching_the_first_72_is_refused(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a 72-byte password, its 73-byte extension does not log in (bcrypt never truncates)."""
    register(lambda_context, password="q" * 72)

    assert token(lambda_context, "johndoe", "q" * 72)[0] == 200
    assert token(lambda_context, "johndoe", "q" * 73) == error(ErrorCode.INVALID_CREDENTIALS)


@pytest.mark.usefixtures("no_dynamodb")
def test_missing_fields_event(lambda_context: Any) -> None:
    """Given events/token_missing_fields.json, MISSING_FIELDS naming the password."""
    status, body = call(token_handler, load_event("token_missing_fields"), lambda_context)

    assert without_details((status, body)) == error(ErrorCode.MISSING_FIELDS)
    assert body["details"][0]["field"] == "password"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"username": "", "password": "secure_password123"}, id="empty-username"),
        pytest.param({"username": "johndoe", "password": "   "}, id="blank-password"),
        pytest.param({"username": 7, "password": "secure_password123"}, id="numeric-username"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_missing_fields(lambda_context: Any, body: dict[str, Any]) -> None:
    """Given a field missing, blank or not a string, MISSING_FIELDS."""
    result = call(token_handler, with_body("token_success", body), lambda_context)

    assert without_details(result) == error(ErrorCode.MISSING_FIELDS)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{'username': 'johndoe'}", id="malformed"),
        pytest.param('["johndoe", "secure_password123"]', id="array"),
        pytest.param(None, id="no-body"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_body_that_is_not_a_json_object_is_invalid_request(
    lambda_context: Any, raw: str | None
) -> None:
    """Given a body that is not a JSON object, INVALID_REQUEST."""
    result = call(token_handler, with_body("token_success", raw), lambda_context)

    assert result == error(ErrorCode.INVALID_REQUEST)
