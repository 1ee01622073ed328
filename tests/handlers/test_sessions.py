"""Sessions: refresh tokens with rotation and reuse detection, logout of one session and of
all, and the authorizer refusing the access tokens of ended sessions (moto)."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from lockbox.accounts import account_records
from lockbox.accounts.passwords import verify_password
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.sessions import session_records
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register
from tests.handlers.calls import (
    answer,
    call,
    error,
    handler,
    with_body,
    without_details,
)
from tests.handlers.sessions import as_caller, authorized, log_in, refresh

TABLE = "UsersTable"


def test_login_returns_a_refresh_token_and_a_token_with_the_session(
    user_id: str, lambda_context: Any, jwt_signing_key: str, aws_tables: Any
) -> None:
    """Given a login, the refresh token is opaque with 256 random bits, only its hash is
    stored, and the access token's sid names the session."""
    data = log_in(lambda_context)
    claims = jwt.decode(data["access_token"], options={"verify_signature": False})
    secret = data["refresh_token"].rsplit(".", 1)[1]

    assert data["refresh_expires_in"] == 2592000
    assert len(secret) >= 43  # token_urlsafe(32)
    item = aws_tables.get_item(
        TableName="UsersTable", Key={"pk": {"S": f"SESSION#{claims['sid']}"}}
    )["Item"]
    assert item["user_id"] == {"S": user_id}
    assert item["current_hash"] == {"S": session_records.refresh_hash(secret)}
    assert secret not in json.dumps(item)
    assert int(item["expires_at"]["N"]) > int(item["refresh_expires_at"]["N"])  # TTL
    assert authorized(lambda_context, data["access_token"]) == {
        "user_id": user_id,
        "sid": claims["sid"],
    }


def test_refresh_rotates_and_keeps_the_session(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a refresh, new tokens of the same session, in one DynamoDB request."""
    data = log_in(lambda_context)
    dynamodb_requests.clear()

    status, body = refresh(lambda_context, data["refresh_token"])

    assert status == 200
    assert body["message"] == "Access token refreshed successfully."
    assert body["data"]["refresh_token"] != data["refresh_token"]
    assert sum(dynamodb_requests.values()) == 1
    old_sid = jwt.decode(data["access_token"], options={"verify_signature": False})["sid"]
    new_sid = jwt.decode(body["data"]["access_token"], options={"verify_signature": False})["sid"]
    assert new_sid == old_sid
    assert refresh(lambda_context, body["data"]["refresh_token"])[0] == 200


def test_reuse_within_the_grace_window_is_refused_and_the_session_lives(
    user_id: str, lambda_context: Any
) -> None:
    data = log_in(lambda_context)
    _, rotated = refresh(lambda_context, data["refresh_token"])

    assert refresh(lambda_context, data["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)
    assert refresh(lambda_context, rotated["data"]["refresh_token"])[0] == 200


def test_reuse_after_the_grace_window_ends_the_session(
    user_id: str,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_requests: Counter[str],
) -> None:
    """Given a rotated token presented after 10 s, the whole session ends: its current
    refresh token and its access tokens; two DynamoDB requests."""
    monkeypatch.setattr(session_records, "REUSE_GRACE_MILLISECONDS", 0)
    data = log_in(lambda_context)
    _, rotated = refresh(lambda_context, data["refresh_token"])
    dynamodb_requests.clear()

    assert refresh(lambda_context, data["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)
    assert sum(dynamodb_requests.values()) == 2
    assert refresh(lambda_context, rotated["data"]["refresh_token"]) == error(
        ErrorCode.INVALID_REFRESH_TOKEN
    )
    assert authorized(lambda_context, rotated["data"]["access_token"]) is None
    assert authorized(lambda_context, data["access_token"]) is None


@pytest.mark.usefixtures("atomic_moto")
def test_parallel_refreshes_with_one_token_have_one_winner(
    user_id: str, lambda_context: Any
) -> None:
    data = log_in(lambda_context)

    with ThreadPoolExecutor(10) as pool:
        statuses = list(
            pool.map(lambda _: refresh(lambda_context, data["refresh_token"])[0], range(10))
        )

    assert sorted(statuses) == [200] + [401] * 9


@pytest.mark.parametrize(
    "refresh_token",
    [
        "garbage",
        "5a3c7e0e-9f1b-4d2a-8c6e-2b7d9f1a0c34.1.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43,
        pytest.param("", id="blank"),
    ],
)
def test_unknown_refresh_tokens_are_refused(
    user_id: str, lambda_context: Any, refresh_token: str
) -> None:
    expected = ErrorCode.INVALID_REQUEST if not refresh_token else ErrorCode.INVALID_REFRESH_TOKEN
    assert without_details(refresh(lambda_context, refresh_token)) == error(expected)


@pytest.mark.parametrize("body", [{}, {"refresh_token": 42}, {"refresh_token": "  "}])
def test_missing_refresh_token_is_invalid_request_with_details(
    lambda_context: Any, no_dynamodb: None, body: dict[str, Any]
) -> None:
    status, answer = call(
        handler("token_refresh"), with_body("token_refresh_success", body), lambda_context
    )

    assert (status, answer["code"]) == (400, "INVALID_REQUEST")
    assert [d["field"] for d in answer["details"]] == ["refresh_token"]


def test_logout_ends_only_the_callers_session(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given two sessions, logout ends the caller's: its refresh token and a never-used
    access token of it are refused at once; the other session lives. One request."""
    first, second = log_in(lambda_context), log_in(lambda_context)
    _, unused = refresh(lambda_context, first["refresh_token"])
    event = as_caller("logout_success", first["access_token"], lambda_context)
    dynamodb_requests.clear()

    status, body = call(handler("logout"), event, lambda_context)

    assert (status, body["message"]) == (200, "Logged out successfully.")
    assert sum(dynamodb_requests.values()) == 1
    assert authorized(lambda_context, unused["data"]["access_token"]) is None
    assert refresh(lambda_context, unused["data"]["refresh_token"])[0] == 401
    assert authorized(lambda_context, second["access_token"]) is not None
    assert refresh(lambda_context, second["refresh_token"])[0] == 200


def test_logout_all_ends_every_session(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    sessions = [log_in(lambda_context) for _ in range(3)]
    event = as_caller("logout_all", sessions[0]["access_token"], lambda_context)
    dynamodb_requests.clear()

    assert call(handler("logout"), event, lambda_context)[0] == 200
    assert sum(dynamodb_requests.values()) == 1
    for data in sessions:
        assert authorized(lambda_context, data["access_token"]) is None
        assert refresh(lambda_context, data["refresh_token"])[0] == 401
    later = log_in(lambda_context)  # a new login starts a live session
    assert authorized(lambda_context, later["access_token"]) is not None


@pytest.mark.parametrize("body", ['{"all": "yes"}', "[]", "{"])
def test_logout_body_must_be_an_object_with_a_boolean(
    user_id: str, lambda_context: Any, body: str
) -> None:
    event = as_caller("logout_success", log_in(lambda_context)["access_token"], lambda_context)
    event["body"] = body

    assert without_details(call(handler("logout"), event, lambda_context)) == error(
        ErrorCode.INVALID_REQUEST
    )


def test_logout_without_the_authorizer_context_is_invalid_token(
    lambda_context: Any, no_dynamodb: None
) -> None:
    event = load_event("logout_success")
    event["requestContext"].pop("authorizer")

    assert call(handler("logout"), event, lambda_context) == error(ErrorCode.INVALID_TOKEN)


def test_authorizer_makes_one_request_per_decision(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    data = log_in(lambda_context)
    dynamodb_requests.clear()

    assert authorized(lambda_context, data["access_token"]) is not None
    assert dict(dynamodb_requests) == {"BatchGetItem": 1}


def test_an_expired_refresh_token_is_refused(
    user_id: str, lambda_context: Any, aws_tables: Any
) -> None:
    """Given a refresh token past its refresh_expires_in, 401 INVALID_REFRESH_TOKEN."""
    data = log_in(lambda_context)
    sid = jwt.decode(data["access_token"], options={"verify_signature": False})["sid"]
    aws_tables.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": f"SESSION#{sid}"}},
        UpdateExpression="SET refresh_expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )

    assert refresh(lambda_context, data["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)


def test_refresh_lifetime_is_the_deployment_parameter(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockbox.core.settings import get_settings

    monkeypatch.setenv("REFRESH_TOKEN_LIFETIME", "86400")
    get_settings.cache_clear()

    data = log_in(lambda_context)
    _, body = refresh(lambda_context, data["refresh_token"])

    assert data["refresh_expires_in"] == body["data"]["refresh_expires_in"] == 86400


def _session_begun(monkeypatch: pytest.MonkeyPatch, lifetime: int, seconds_ago: int) -> None:
    """SessionMaxLifetime set to `lifetime`, and sessions started from now on dated
    `seconds_ago` seconds in the past."""
    from lockbox.core.settings import get_settings

    monkeypatch.setenv("SESSION_MAX_LIFETIME", str(lifetime))
    get_settings.cache_clear()
    began = session_records.now_microseconds() - seconds_ago * 1_000_000
    monkeypatch.setattr(session_records, "now_microseconds", lambda: began)


def test_refresh_expires_in_never_reaches_past_the_sessions_end(
    user_id: str, lambda_context: Any, aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a session 3,500 s into a SessionMaxLifetime of 3,600 s, its login and its
    refresh answer at most the 100 s left, stored and answered alike, and the item's TTL
    is no later than the session's end plus the margin; expires_in stays 3600."""
    _session_begun(monkeypatch, 3600, 3500)

    data = log_in(lambda_context)
    status, body = refresh(lambda_context, data["refresh_token"])

    assert status == 200
    assert 98 <= body["data"]["refresh_expires_in"] <= data["refresh_expires_in"] <= 100
    assert body["data"]["expires_in"] == data["expires_in"] == 3600
    sid = jwt.decode(data["access_token"], options={"verify_signature": False})["sid"]
    item = aws_tables.get_item(TableName=TABLE, Key={"pk": {"S": f"SESSION#{sid}"}})["Item"]
    end = int(item["created_at"]["N"]) // 1_000_000 + 3600
    assert int(item["refresh_expires_at"]["N"]) <= end
    assert int(item["expires_at"]["N"]) <= end + 86_400


def test_a_session_past_its_max_lifetime_is_ended(
    user_id: str,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_requests: Counter[str],
) -> None:
    """Given a session older than SessionMaxLifetime (refreshed or not), its refresh token
    is refused without a DynamoDB request and the authorizer refuses its access tokens."""
    from lockbox.core.settings import get_settings

    _session_begun(monkeypatch, 3600, 3590)
    data = log_in(lambda_context)
    _, refreshed = refresh(lambda_context, data["refresh_token"])
    monkeypatch.setenv("SESSION_MAX_LIFETIME", "3500")  # the same session, now past its end
    get_settings.cache_clear()
    dynamodb_requests.clear()

    assert refresh(lambda_context, refreshed["data"]["refresh_token"]) == error(
        ErrorCode.INVALID_REFRESH_TOKEN
    )
    assert sum(dynamodb_requests.values()) == 0
    assert authorized(lambda_context, data["access_token"]) is None
    assert authorized(lambda_context, refreshed["data"]["access_token"]) is None


def test_authorizer_asks_again_for_a_key_dynamodb_left_unprocessed(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the session left unprocessed once (throttling), the decision is still taken,
    not a 500, after asking for the session alone."""
    data = log_in(lambda_context)
    client = dynamodb.client()
    real = client.batch_get_item
    asked: list[Any] = []

    def session_unprocessed_once(**kwargs: Any) -> Any:
        asked.append(kwargs["RequestItems"]["UsersTable"]["Keys"])
        response = real(**kwargs)
        if len(asked) == 1:
            keys = kwargs["RequestItems"]["UsersTable"]["Keys"]
            response["Responses"]["UsersTable"] = [
                item for item in response["Responses"]["UsersTable"] if item["pk"] != keys[0]["pk"]
            ]
            response["UnprocessedKeys"] = {"UsersTable": {"Keys": [keys[0]]}}
        return response

    monkeypatch.setattr(client, "batch_get_item", session_unprocessed_once)

    assert authorized(lambda_context, data["access_token"]) is not None
    assert [len(keys) for keys in asked] == [2, 1]


def _logout(user_id: str) -> Any:
    return put_event(user_id, Activity("logout"))


def test_ending_a_session_that_does_not_exist_writes_nothing(aws_tables: Any) -> None:
    """Given no such session, ending it is no error and creates no item."""
    session_records.end_session("no-such-session", "some-user", _logout("some-user"))

    assert aws_tables.scan(TableName=TABLE)["Items"] == []


def test_ending_every_session_of_a_deleted_user_writes_nothing(aws_tables: Any) -> None:
    """Given no such profile, ending its sessions is no error and creates no profile."""
    session_records.end_all_sessions("deleted-user", _logout("deleted-user"))

    assert aws_tables.scan(TableName=TABLE)["Items"] == []


def test_a_session_of_another_user_is_not_ended(aws_tables: Any, lambda_context: Any) -> None:
    """Given a session item of one user, another user's id cannot end it."""
    aws_tables.put_item(
        TableName=TABLE,
        Item={"pk": {"S": session_records.session_pk("s1")}, "user_id": {"S": "owner"}},
    )

    session_records.end_session("s1", "someone-else", _logout("someone-else"))

    item = aws_tables.get_item(TableName=TABLE, Key={"pk": {"S": session_records.session_pk("s1")}})
    assert "ended" not in item["Item"]


def test_a_profile_without_its_hash_is_checked_against_the_email_marker(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a profile written before profiles kept the password hash, the account's
    password is still the one on its email marker."""
    from lockbox.accounts import account_calls as account_logic

    _, body = register(lambda_context)
    user_id = body["data"]["user_id"]
    aws_tables.update_item(
        TableName=TABLE,
        Key={"pk": {"S": account_records.user_pk(user_id)}},
        UpdateExpression="REMOVE password_hash",
    )
    account = account_records.read_account(user_id)
    assert account is not None
    assert account.password_hash is None

    stored = account_logic._password_hash(account)

    assert verify_password(USER["password"], stored)


# --- POST /users/logout ---------------------------------------------------------------------


def test_users_login_profile_and_logout(aws_tables: Any, lambda_context: Any) -> None:
    signup = load_event("users_register_success")
    created = json.loads(handler("users_register")(signup, lambda_context)["body"])
    credentials = json.loads(signup["body"])
    login_event = with_body(
        "users_login_success", {"email": credentials["email"], "password": credentials["password"]}
    )

    status, login = answer(handler("users_login"), login_event, lambda_context)

    assert status == 200
    assert login["user"] == created["user"]
    profile_event = as_caller("users_profile_success", login["token"], lambda_context)
    assert answer(handler("users_profile"), profile_event, lambda_context) == (
        200,
        created["user"],
    )
    logout_event = as_caller("users_logout_success", login["token"], lambda_context)
    assert answer(handler("users_logout"), logout_event, lambda_context) == (
        200,
        {"message": "Logged out successfully"},
    )
    assert authorized(lambda_context, login["token"]) is None
    assert authorized(lambda_context, created["token"]) is not None
