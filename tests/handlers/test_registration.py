"""POST /api/register through its Lambda handler, against moto tables built from template.yaml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from tests.handlers.calls import (
    USER,
    call,
    error,
    load_event,
    register,
    register_handler,
    with_body,
    without_details,
)


def users_items(client: Any) -> dict[str, dict[str, Any]]:
    return {item["pk"]["S"]: item for item in client.scan(TableName="UsersTable")["Items"]}


def test_success_answers_200_with_the_profile(aws_tables: Any, lambda_context: Any) -> None:
    """Given the sample registration, when registering, then 200 with the new user's profile."""
    status, body = call(register_handler, load_event("register_success"), lambda_context)

    assert status == 200
    assert body["status"] == "success"
    assert body["message"] == "User successfully registered!"
    data = body["data"]
    assert set(data) == {"user_id", "username", "email", "full_name", "age", "gender"}
    assert {name: data[name] for name in data if name != "user_id"} == {
        name: value for name, value in USER.items() if name != "password"
    }
    assert isinstance(data["user_id"], str)
    assert data["user_id"]


def test_response_never_contains_the_password_or_its_hash(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a registration, the response has neither the password nor its bcrypt hash."""
    response = register_handler(load_event("register_success"), lambda_context)

    stored_hash = users_items(aws_tables)["USERNAME#johndoe"]["password_hash"]["S"]
    assert "password" not in response["body"].lower()
    assert USER["password"] not in response["body"]
    assert stored_hash not in response["body"]
    assert "$2b$" not in response["body"]


def test_each_registration_gets_its_own_user_id(aws_tables: Any, lambda_context: Any) -> None:
    """Given two accounts, their user ids differ."""
    _, first = register(lambda_context)
    _, second = register(lambda_context, username="janedoe", email="jane@example.com")

    assert first["data"]["user_id"] != second["data"]["user_id"]


def test_table_holds_the_profile_and_both_markers(aws_tables: Any, lambda_context: Any) -> None:
    """Given a registration, the users table holds USER#id, USERNAME# and EMAIL# items."""
    _, body = register(lambda_context, username="JohnDoe", email="John.Doe@Example.com")
    user_id = body["data"]["user_id"]

    items = users_items(aws_tables)

    assert set(items) == {f"USER#{user_id}", "USERNAME#johndoe", "EMAIL#john.doe@example.com"}
    profile = items[f"USER#{user_id}"]
    assert profile["username"] == {"S": "JohnDoe"}
    assert profile["email"] == {"S": "John.Doe@Example.com"}
    assert profile["full_name"] == {"S": "John Doe"}
    assert profile["age"] == {"N": "30"}
    assert profile["gender"] == {"S": "male"}
    assert profile["password_hash"]["S"].startswith("$2b$04$")  # the account calls check it
    for marker in ("USERNAME#johndoe", "EMAIL#john.doe@example.com"):
        assert items[marker]["user_id"] == {"S": user_id}
        assert items[marker]["password_hash"]["S"].startswith("$2b$04$")


def test_password_is_stored_only_as_a_hash(aws_tables: Any, lambda_context: Any) -> None:
    """Given a registration, the plain password is nowhere in the users table."""
    register(lambda_context)

    dump = json.dumps(aws_tables.scan(TableName="UsersTable")["Items"])

    assert USER["password"] not in dump


@pytest.mark.parametrize(
    ("event_name", "code", "fields"),
    [
        (
            "register_missing_fields",
            ErrorCode.INVALID_REQUEST,
            ["email", "full_name", "age", "gender"],
        ),
        ("register_invalid_username", ErrorCode.INVALID_REQUEST, ["username"]),
        ("register_invalid_email", ErrorCode.INVALID_REQUEST, ["email"]),
        ("register_common_password", ErrorCode.INVALID_PASSWORD, ["password"]),
        ("register_short_password", ErrorCode.INVALID_PASSWORD, ["password"]),
        ("register_invalid_age", ErrorCode.INVALID_AGE, ["age"]),
        ("register_missing_gender", ErrorCode.GENDER_REQUIRED, ["gender"]),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_validation_failures_answer_their_code_with_details(
    lambda_context: Any, event_name: str, code: ErrorCode, fields: list[str]
) -> None:
    """Given an events/ file with a rule broken, then that code, its message, and every field."""
    status, body = call(register_handler, load_event(event_name), lambda_context)

    assert without_details((status, body)) == error(code)
    assert [problem["field"] for problem in body["details"]] == fields
    assert all(problem["message"] for problem in body["details"])


@pytest.mark.parametrize(
    "event_name", ["register_malformed_json", "register_array_body", "register_empty_body"]
)
@pytest.mark.usefixtures("no_dynamodb")
def test_body_that_is_not_a_json_object_is_invalid_request(
    lambda_context: Any, event_name: str
) -> None:
    """Given a body that is not a JSON object, INVALID_REQUEST."""
    assert call(register_handler, load_event(event_name), lambda_context) == error(
        ErrorCode.INVALID_REQUEST
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('"johndoe"', id="string"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param('{"age": NaN}', id="nan"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_other_non_object_bodies_are_invalid_request(lambda_context: Any, raw: str) -> None:
    """Given a string, deeply nested array or NaN body, INVALID_REQUEST."""
    event = with_body("register_success", raw)

    assert call(register_handler, event, lambda_context) == error(ErrorCode.INVALID_REQUEST)


def test_failed_validation_writes_nothing(aws_tables: Any, lambda_context: Any) -> None:
    """Given a refused registration, the users table stays empty."""
    call(register_handler, load_event("register_common_password"), lambda_context)

    assert users_items(aws_tables) == {}


@pytest.mark.usefixtures("no_dynamodb")
def test_check_order_invalid_request_before_password(lambda_context: Any) -> None:
    """Given a bad username and a common password, INVALID_REQUEST wins and both are listed."""
    status, body = register(lambda_context, username="x", password="password")

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [problem["field"] for problem in body["details"]] == ["username", "password"]


def test_validation_comes_before_uniqueness(aws_tables: Any, lambda_context: Any) -> None:
    """Given a taken username and no gender, GENDER_REQUIRED answers, not USERNAME_EXISTS."""
    register(lambda_context)
    body = {name: value for name, value in USER.items() if name != "gender"}

    result = call(register_handler, with_body("register_success", body), lambda_context)

    assert without_details(result) == error(ErrorCode.GENDER_REQUIRED)


@pytest.mark.parametrize("username", ["johndoe", "JOHNDOE"])
def test_username_taken_in_any_case_is_username_exists(
    aws_tables: Any, lambda_context: Any, username: str
) -> None:
    """Given johndoe registered, the same username in any case is USERNAME_EXISTS."""
    register(lambda_context)

    result = register(lambda_context, username=username, email="other@example.com")

    assert result == error(ErrorCode.USERNAME_EXISTS)


@pytest.mark.parametrize("email", ["john.doe@example.com", "John.Doe@EXAMPLE.com"])
def test_email_taken_in_any_case_is_email_exists(
    aws_tables: Any, lambda_context: Any, email: str
) -> None:
    """Given john.doe@example.com registered, the same email in any case is EMAIL_EXISTS."""
    register(lambda_context)

    result = register(lambda_context, username="someoneelse", email=email)

    assert result == error(ErrorCode.EMAIL_EXISTS)


def test_username_clash_is_reported_before_email_clash(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given both username and email taken, USERNAME_EXISTS."""
    register(lambda_context)

    assert register(lambda_context) == error(ErrorCode.USERNAME_EXISTS)


def test_refused_duplicate_leaves_no_partial_write(aws_tables: Any, lambda_context: Any) -> None:
    """Given a free username but a taken email, no marker or profile of the new try remains."""
    register(lambda_context)
    before = users_items(aws_tables)

    register(lambda_context, username="newname", email="JOHN.DOE@example.com")

    assert users_items(aws_tables) == before
    assert "USERNAME#newname" not in users_items(aws_tables)


def test_unknown_fields_are_ignored_and_not_stored(aws_tables: Any, lambda_context: Any) -> None:
    """Given extra fields, the account is created without them and with its own id."""
    status, body = register(lambda_context, user_id="chosen-by-client", role="admin")

    assert status == 200
    assert body["data"]["user_id"] != "chosen-by-client"
    assert "role" not in json.dumps(aws_tables.scan(TableName="UsersTable")["Items"])


def test_spec_example_passwords_are_accepted(aws_tables: Any, lambda_context: Any) -> None:
    """Given the contract's example password test_password, the registration succeeds."""
    status, _ = register(lambda_context, password="test_password")

    assert status == 200


def test_unicode_profile_is_returned_unescaped(aws_tables: Any, lambda_context: Any) -> None:
    """Given a Unicode full name and gender, the response carries them unescaped."""
    response = register_handler(
        with_body("register_success", {**USER, "full_name": "Zoë Ñandú 山田", "gender": "女"}),
        lambda_context,
    )

    assert "Zoë Ñandú 山田" in response["body"]
    assert json.loads(response["body"])["data"]["gender"] == "女"
