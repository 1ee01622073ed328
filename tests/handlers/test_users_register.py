"""POST /users/register (the second registration flavour) against moto tables."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from functions.authorizer.app import lambda_handler as authorizer
from functions.register.app import lambda_handler as register
from functions.token.app import lambda_handler as token
from functions.users_register.app import lambda_handler as users_register
from lockbox_local.events import load_event


def with_body(body: object) -> dict[str, Any]:
    event = load_event("users_register_success")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def api_register_event(username: str) -> dict[str, Any]:
    """A POST /api/register event for the same email as VALID's."""
    event = load_event("register_success")
    event["body"] = json.dumps(
        {
            "username": username,
            "email": "john.doe@example.com",
            "password": "test_password",
            "full_name": "John Doe",
            "age": 30,
            "gender": "male",
        }
    )
    return event


def call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = users_register(event, context)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    assert set(body) == {"errors"}
    for entry in body["errors"]:
        assert entry["location"] == "body"
    return {entry["param"]: entry["msg"] for entry in body["errors"]}


VALID = {
    "fullname": {"firstname": "John", "lastname": "Doe"},
    "email": "john.doe@example.com",
    "password": "securePassword123",
}


def test_success_answers_201_with_token_and_user(aws_tables: Any, lambda_context: Any) -> None:
    """Given the documented sample body, when registering, then 201 with token and user."""
    status, body = call(load_event("users_register_success"), lambda_context)

    assert status == 201
    assert set(body) == {"token", "user"}
    assert body["user"]["fullname"] == {"firstname": "John", "lastname": "Doe"}
    assert body["user"]["email"] == "john.doe@example.com"
    assert body["user"]["socketId"] is None
    assert isinstance(body["user"]["_id"], str)
    assert body["user"]["_id"]
    assert "password" not in json.dumps(body).lower()


def test_token_has_the_claims_of_api_token(
    aws_tables: Any, lambda_context: Any, jwt_signing_key: str
) -> None:
    """Given a new account, its token is the kind /api/token issues, for that user."""
    _, body = call(load_event("users_register_success"), lambda_context)

    claims = jwt.decode(
        body["token"], jwt_signing_key, algorithms=["HS256"], audience="lockbox-api-clients"
    )

    assert claims["sub"] == body["user"]["_id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert {"iss", "jti"} <= set(claims)


def test_token_is_accepted_by_the_authorizer(aws_tables: Any, lambda_context: Any) -> None:
    _, body = call(load_event("users_register_success"), lambda_context)
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {body['token']}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/api/data/notes",
    }

    policy = authorizer(event, lambda_context)

    assert policy["context"]["user_id"] == body["user"]["_id"]


def test_lastname_is_optional(aws_tables: Any, lambda_context: Any) -> None:
    status, body = call(with_body({**VALID, "fullname": {"firstname": "Ada"}}), lambda_context)

    assert status == 201
    assert body["user"]["fullname"] == {"firstname": "Ada"}


@pytest.mark.parametrize(
    ("change", "param", "message"),
    [
        (
            {"fullname": {"firstname": "Jo"}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": "   "}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"lastname": "Doe"}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": 123}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        ({"fullname": None}, "fullname.firstname", "First name must be at least 3 characters long"),
        (
            {"fullname": {"firstname": "John", "lastname": "D"}},
            "fullname.lastname",
            "Last name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": "J" * 101}},
            "fullname.firstname",
            "First name must be at most 100 characters long",
        ),
        (
            {"fullname": "John Doe"},
            "fullname",
            "Full name must be an object with firstname and lastname",
        ),
        ({"email": "a@b"}, "email", "Email must be at least 5 characters long"),
        ({"email": "not-an-email"}, "email", "Invalid Email"),
        ({"email": 42}, "email", "Invalid Email"),
        ({"email": None}, "email", "Invalid Email"),
        ({"password": "12345"}, "password", "Password must be at least 6 characters long"),
        ({"password": None}, "password", "Password must be at least 6 characters long"),
        ({"password": "é" * 37}, "password", "Password must be at most 72 bytes long"),
    ],
)
def test_each_field_rule(
    aws_tables: Any, lambda_context: Any, change: dict[str, Any], param: str, message: str
) -> None:
    """Given one broken field, then 400 names that field with its rule's message."""
    body = {key: value for key, value in {**VALID, **change}.items() if value is not None}

    status, answer = call(with_body(body), lambda_context)

    assert status == 400
    assert errors_of(answer) == {param: message}


def test_password_of_exactly_six_characters_and_72_bytes_are_accepted(
    aws_tables: Any, lambda_context: Any
) -> None:
    assert call(with_body({**VALID, "password": "abcdef"}), lambda_context)[0] == 201
    other = {**VALID, "email": "other@example.com", "password": "é" * 36}
    assert call(with_body(other), lambda_context)[0] == 201


def test_every_problem_is_listed_at_once(aws_tables: Any, lambda_context: Any) -> None:
    status, body = call(load_event("users_register_invalid_fields"), lambda_context)

    assert status == 400
    assert set(errors_of(body)) == {"fullname.firstname", "fullname.lastname", "email", "password"}


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null", "", "{not json", "42"])
def test_body_that_is_not_an_object(aws_tables: Any, lambda_context: Any, raw: str) -> None:
    status, body = call(with_body(raw), lambda_context)

    assert status == 400
    assert body == {
        "errors": [
            {
                "type": "field",
                "msg": "Request body must be a JSON object.",
                "param": "body",
                "path": "body",
                "location": "body",
            }
        ]
    }


def test_duplicate_email_is_refused_case_insensitively(
    aws_tables: Any, lambda_context: Any
) -> None:
    call(with_body(VALID), lambda_context)

    status, body = call(with_body({**VALID, "email": "JOHN.DOE@example.COM"}), lambda_context)

    assert status == 400
    assert body == {
        "errors": [
            {
                "type": "field",
                "msg": "Email is already registered",
                "param": "email",
                "path": "email",
                "location": "body",
            }
        ]
    }


def test_email_taken_by_api_register_is_refused(aws_tables: Any, lambda_context: Any) -> None:
    assert register(api_register_event("johnd"), lambda_context)["statusCode"] == 200

    status, body = call(with_body(VALID), lambda_context)

    assert status == 400
    assert errors_of(body) == {"email": "Email is already registered"}


def test_email_taken_here_is_refused_by_api_register(aws_tables: Any, lambda_context: Any) -> None:
    call(with_body(VALID), lambda_context)

    response = register(api_register_event("johnd"), lambda_context)

    assert response["statusCode"] == 409
    assert json.loads(response["body"])["code"] == "EMAIL_EXISTS"


def test_login_by_email_at_api_token(aws_tables: Any, lambda_context: Any) -> None:
    call(with_body(VALID), lambda_context)
    event = load_event("token_success")
    event["body"] = json.dumps(
        {"username": "John.Doe@Example.com", "password": "securePassword123"}
    )

    response = token(event, lambda_context)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["data"]["token_type"] == "Bearer"


def test_account_has_no_username_marker(aws_tables: Any, lambda_context: Any) -> None:
    """The account is its profile, its email marker and the token's session, written together."""
    _, body = call(with_body(VALID), lambda_context)

    keys = sorted(item["pk"]["S"] for item in aws_tables.scan(TableName="UsersTable")["Items"])

    assert keys[:2] == ["EMAIL#john.doe@example.com", "SESSION#" + session_of(body["token"])]
    assert keys[2:] == [f"USER#{body['user']['_id']}"]


def session_of(token: str) -> str:
    """The session id an access token carries (read without verifying)."""
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


@pytest.mark.usefixtures("atomic_moto")  # see tests/handlers/conftest.py
def test_concurrent_registrations_of_one_email_across_both_calls(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given 10 calls of each flavour for one email at once, exactly one account is made."""

    def signup() -> int:
        return call(with_body(VALID), lambda_context)[0]

    def classic(index: int) -> int:
        return int(register(api_register_event(f"user{index}"), lambda_context)["statusCode"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        signups = [pool.submit(signup) for _ in range(10)]
        classics = [pool.submit(classic, index) for index in range(10)]
        signup_statuses = [future.result() for future in signups]
        classic_statuses = [future.result() for future in classics]

    successes = signup_statuses.count(201) + classic_statuses.count(200)
    assert successes == 1
    assert set(signup_statuses) <= {201, 400}
    assert set(classic_statuses) <= {200, 409}


def test_server_fault_answers_500_in_this_format(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from lockbox.core import dynamodb

    def failing(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems"
        )

    monkeypatch.setattr(dynamodb.client(), "transact_write_items", failing)

    status, body = call(with_body(VALID), lambda_context)

    assert status == 500
    assert body == {
        "errors": [
            {
                "msg": "An internal server error occurred. Please try again later.",
                "location": "server",
            }
        ]
    }
