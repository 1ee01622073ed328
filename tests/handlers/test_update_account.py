"""PATCH /api/account through its Lambda handler, against moto: the fields checked as at
registration, the account answered as GET /api/account, the new name on /users at once,
the account_updated event in the change's own transaction."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from tests.handlers.accounts import USER
from tests.handlers.calls import call, handler, with_body
from tests.handlers.sessions import access_token, as_caller


def update(context: Any, body: object, token: str | None = None) -> tuple[int, dict[str, Any]]:
    event = as_caller("update_account_success", token or access_token(context), context, body)
    return call(handler("update_account"), event, context)


def read_account(context: Any, token: str) -> dict[str, Any]:
    status, body = call(
        handler("get_account"), as_caller("get_account_success", token, context), context
    )
    assert status == 200
    return dict(body["data"])


def users_profile(context: Any, token: str) -> dict[str, Any]:
    """GET /users/profile's bare user object."""
    answer = handler("users_profile")(as_caller("get_account_success", token, context), context)
    assert answer["statusCode"] == 200
    return dict(json.loads(answer["body"]))


def test_update_answers_the_account_in_two_requests(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given an account, when its full name and age are patched, then 200 with the message
    and the account as GET /api/account now answers it, in one GetItem and one
    TransactWriteItems (the change and its event)."""
    token = access_token(lambda_context)
    event = as_caller("update_account_success", token, lambda_context)
    dynamodb_requests.clear()

    status, body = call(handler("update_account"), event, lambda_context)

    assert (status, body["message"]) == (200, "Account updated successfully.")
    assert dict(dynamodb_requests) == {"GetItem": 1, "TransactWriteItems": 1}
    assert body["data"]["full_name"] == "Johnathan Doe"
    assert body["data"]["age"] == 31
    assert body["data"]["gender"] == USER["gender"]
    assert body["data"] == read_account(lambda_context, token)
    assert "hash" not in json.dumps(body)


def test_one_field_leaves_the_others(user_id: str, lambda_context: Any) -> None:
    """Given an account, when only its gender is patched, then name and age stay."""
    status, body = update(lambda_context, {"gender": "non-binary"})

    assert status == 200
    assert (body["data"]["full_name"], body["data"]["age"], body["data"]["gender"]) == (
        USER["full_name"],
        USER["age"],
        "non-binary",
    )


def test_users_profile_and_login_read_the_new_name_at_once(
    user_id: str, lambda_context: Any
) -> None:
    """Given a patched full name, then /users/profile and /users/login answer it at once
    (the login reads it from its marker, which the update writes too)."""
    token = access_token(lambda_context)
    assert update(lambda_context, {"full_name": "Ada King"}, token)[0] == 200

    profile = users_profile(lambda_context, token)
    login = handler("users_login")(
        with_body("users_login_success", {"email": USER["email"], "password": USER["password"]}),
        lambda_context,
    )

    assert profile["fullname"] == {"firstname": "Ada", "lastname": "King"}
    assert json.loads(login["body"])["user"]["fullname"] == {"firstname": "Ada", "lastname": "King"}


def test_users_account_name_is_replaced_by_the_full_name(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given an account of /users/register (firstname and lastname), when its full_name is
    patched, then GET /api/account and /users/profile both answer the new name."""
    signup = {
        "fullname": {"firstname": "Grace", "lastname": "Hopper"},
        "email": "grace@example.com",
        "password": "cobol-forever-59",
    }
    created = handler("users_register")(with_body("users_register_success", signup), lambda_context)
    token = json.loads(created["body"])["token"]

    status, body = update(lambda_context, {"full_name": "Grace Brewster Hopper"}, token)
    profile = users_profile(lambda_context, token)

    assert status == 200
    assert body["data"]["full_name"] == "Grace Brewster Hopper"
    assert profile["fullname"] == {"firstname": "Grace", "lastname": "Brewster Hopper"}


def test_update_records_the_account_updated_event(user_id: str, lambda_context: Any) -> None:
    """Given a patch, then the activity log's newest event is account_updated, from the
    caller's session."""
    token = access_token(lambda_context)
    assert update(lambda_context, {"age": 40}, token)[0] == 200

    event = as_caller("list_activity_success", token, lambda_context)
    status, body = call(handler("list_activity"), event, lambda_context)

    assert status == 200
    newest = body["data"]["events"][0]
    assert newest["event"] == "account_updated"
    assert newest["session_id"] == event["requestContext"]["authorizer"]["sid"]


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        pytest.param({}, ErrorCode.INVALID_REQUEST, ["body"], id="none-sent"),
        pytest.param({"nickname": "JD"}, ErrorCode.INVALID_REQUEST, ["body"], id="only-unknown"),
        pytest.param({"full_name": None}, ErrorCode.INVALID_REQUEST, ["full_name"], id="null-name"),
        pytest.param({"full_name": " "}, ErrorCode.INVALID_REQUEST, ["full_name"], id="blank-name"),
        pytest.param(
            {"full_name": "x" * 101}, ErrorCode.INVALID_REQUEST, ["full_name"], id="long-name"
        ),
        pytest.param({"age": 0}, ErrorCode.INVALID_AGE, ["age"], id="age-0"),
        pytest.param({"age": True}, ErrorCode.INVALID_AGE, ["age"], id="age-boolean"),
        pytest.param({"age": "30"}, ErrorCode.INVALID_AGE, ["age"], id="age-string"),
        pytest.param({"gender": ""}, ErrorCode.GENDER_REQUIRED, ["gender"], id="gender-empty"),
        pytest.param(
            {"age": 0, "gender": "x" * 65},
            ErrorCode.INVALID_AGE,
            ["age", "gender"],
            id="age-before-gender",
        ),
        pytest.param(
            {"full_name": "a\u0000b", "age": 151},
            ErrorCode.INVALID_REQUEST,
            ["full_name", "age"],
            id="name-before-age",
        ),
    ],
)
def test_fields_are_checked_as_at_registration(
    user_id: str,
    lambda_context: Any,
    dynamodb_requests: Counter[str],
    body: dict[str, Any],
    code: ErrorCode,
    fields: list[str],
) -> None:
    """Given a body without any of the fields, or with one refused at registration, then
    that code (the registration's order decides), details naming each field, and nothing
    read or written."""
    token = access_token(lambda_context)
    event = as_caller("update_account_success", token, lambda_context, body)
    dynamodb_requests.clear()

    status, answer = call(handler("update_account"), event, lambda_context)

    assert (status, answer["code"]) == (code.status, code.name)
    assert [detail["field"] for detail in answer["details"]] == fields
    assert dict(dynamodb_requests) == {}
    assert read_account(lambda_context, token)["age"] == USER["age"]
