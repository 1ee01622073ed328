"""Device sessions: GET /api/sessions lists the caller's live sessions in one Query, and
DELETE /api/sessions/{session_id} ends one of them in one request (moto)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import jwt
import pytest

from lockbox.core.errors import ErrorCode
from lockbox.sessions import session_records
from tests.handlers.accounts import USER
from tests.handlers.calls import call, error, handler, with_body
from tests.handlers.sessions import as_caller, authorized, refresh

PHONE = "Lockbox/2.1 (iPhone; iOS 18.1)"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def log_in_from(context: Any, user_agent: str | None) -> dict[str, Any]:
    """The data of a login of the sample account sent with this User-Agent (None: without)."""
    event = with_body("token_success", {"username": USER["username"], "password": USER["password"]})
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("User-Agent", None)
    if user_agent is not None:
        event["headers"]["User-Agent"] = user_agent
    status, body = call(handler("token"), event, context)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def sid(data: dict[str, Any]) -> str:
    return str(jwt.decode(data["access_token"], options={"verify_signature": False})["sid"])


def list_sessions(context: Any, access_token: str) -> list[dict[str, Any]]:
    status, body = call(
        handler("list_sessions"), as_caller("list_sessions_success", access_token, context), context
    )
    assert status == 200, body
    sessions: list[dict[str, Any]] = body["data"]["sessions"]
    return sessions


def delete_session(context: Any, access_token: str, session_id: str) -> tuple[int, Any]:
    event = as_caller("delete_session_success", access_token, context)
    event["pathParameters"] = {"session_id": session_id}
    return call(handler("delete_session"), event, context)


def test_list_sessions_newest_first_with_device_and_current(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given logins from a laptop then a phone, the list has both, newest first, with
    their User-Agents and ISO 8601 times, the caller's marked current, in one Query."""
    laptop = log_in_from(lambda_context, LAPTOP)
    phone = log_in_from(lambda_context, PHONE)
    authorized(lambda_context, laptop["access_token"])
    dynamodb_requests.clear()

    status, body = call(
        handler("list_sessions"),
        {**as_caller("list_sessions_success", laptop["access_token"], lambda_context)},
        lambda_context,
    )

    assert status == 200
    sessions = body["data"]["sessions"]
    agents = [(s["session_id"], s["user_agent"], s["current"]) for s in sessions[:2]]
    assert agents == [(sid(phone), PHONE, False), (sid(laptop), LAPTOP, True)]
    assert sessions[0]["created_at"] >= sessions[1]["created_at"]
    assert datetime.fromisoformat(sessions[0]["last_used_at"]).utcoffset().total_seconds() == 0
    assert dynamodb_requests["Query"] == 1


def test_list_sessions_shows_a_refresh_as_last_use_and_no_agent_as_null(
    user_id: str, lambda_context: Any
) -> None:
    """Given a login without a User-Agent, its user_agent is null; a refresh moves its
    last_used_at forward and keeps its created_at."""
    data = log_in_from(lambda_context, None)
    before = list_sessions(lambda_context, data["access_token"])
    mine = next(s for s in before if s["session_id"] == sid(data))

    _, refreshed = refresh(lambda_context, data["refresh_token"])
    after = list_sessions(lambda_context, refreshed["data"]["access_token"])
    again = next(s for s in after if s["session_id"] == sid(data))

    assert mine["user_agent"] is None
    assert mine["last_used_at"] == mine["created_at"]
    assert again["created_at"] == mine["created_at"]
    assert again["last_used_at"] > mine["last_used_at"]


def test_list_sessions_leaves_out_ended_sessions(user_id: str, lambda_context: Any) -> None:
    """Given sessions ended by logout, by a logout everywhere (the caller's new session
    after it lives) and past SessionMaxLifetime, only live ones are listed."""
    logged_out = log_in_from(lambda_context, LAPTOP)
    event = as_caller("logout_success", logged_out["access_token"], lambda_context)
    assert call(handler("logout"), event, lambda_context)[0] == 200
    everywhere = log_in_from(lambda_context, LAPTOP)
    event = as_caller("logout_all", everywhere["access_token"], lambda_context)
    assert call(handler("logout"), event, lambda_context)[0] == 200
    live = log_in_from(lambda_context, PHONE)

    sessions = list_sessions(lambda_context, live["access_token"])

    assert [s["session_id"] for s in sessions] == [sid(live)]


def test_list_sessions_leaves_out_sessions_past_their_max_lifetime(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a session begun before SessionMaxLifetime ago, it is not listed."""
    from lockbox.core.settings import get_settings

    monkeypatch.setenv("SESSION_MAX_LIFETIME", "3600")
    get_settings.cache_clear()
    live = log_in_from(lambda_context, PHONE)
    began = session_records.now_microseconds() - 3601 * 1_000_000
    monkeypatch.setattr(session_records, "now_microseconds", lambda: began)
    old = log_in_from(lambda_context, LAPTOP)

    listed = [s["session_id"] for s in list_sessions(lambda_context, live["access_token"])]

    assert sid(live) in listed
    assert sid(old) not in listed


def test_delete_session_ends_another_device_in_one_request(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a phone's session ended from the laptop, 200 "Session ended." in one request;
    the phone's access token and refresh token are refused, the laptop's session lives,
    and ending it again is SESSION_NOT_FOUND."""
    laptop = log_in_from(lambda_context, LAPTOP)
    phone = log_in_from(lambda_context, PHONE)
    authorized(lambda_context, laptop["access_token"])
    event = as_caller("delete_session_success", laptop["access_token"], lambda_context)
    event["pathParameters"] = {"session_id": sid(phone)}
    dynamodb_requests.clear()

    status, body = call(handler("delete_session"), event, lambda_context)

    assert (status, body["message"]) == (200, "Session ended.")
    assert sum(dynamodb_requests.values()) == 1
    assert authorized(lambda_context, phone["access_token"]) is None
    assert refresh(lambda_context, phone["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)
    assert authorized(lambda_context, laptop["access_token"]) is not None
    assert delete_session(lambda_context, laptop["access_token"], sid(phone)) == error(
        ErrorCode.SESSION_NOT_FOUND
    )


def test_delete_session_of_another_user_is_not_found(
    user_id: str, lambda_context: Any, aws_tables: Any
) -> None:
    """Given another user's live session, its id is SESSION_NOT_FOUND and it lives on."""
    mine = log_in_from(lambda_context, LAPTOP)
    aws_tables.put_item(
        TableName="UsersTable",
        Item={
            "pk": {"S": session_records.session_pk("OtherUsersSession00001")},
            "user_id": {"S": "someone-else"},
            "created_at": {"N": str(session_records.now_microseconds())},
            "expires_at": {"N": "99999999999"},
        },
    )

    assert delete_session(lambda_context, mine["access_token"], "OtherUsersSession00001") == error(
        ErrorCode.SESSION_NOT_FOUND
    )
    item = aws_tables.get_item(
        TableName="UsersTable",
        Key={"pk": {"S": session_records.session_pk("OtherUsersSession00001")}},
    )["Item"]
    assert "ended" not in item


def test_delete_session_of_an_id_no_session_can_have_makes_no_request(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given an id of the wrong shape, or an unknown one, SESSION_NOT_FOUND; the first
    without a DynamoDB request."""
    mine = log_in_from(lambda_context, LAPTOP)
    event = as_caller("delete_session_not_found", mine["access_token"], lambda_context)
    dynamodb_requests.clear()

    assert call(handler("delete_session"), event, lambda_context) == error(
        ErrorCode.SESSION_NOT_FOUND
    )
    assert sum(dynamodb_requests.values()) == 0
    assert delete_session(lambda_context, mine["access_token"], "A" * 22) == error(
        ErrorCode.SESSION_NOT_FOUND
    )


def test_delete_session_after_a_logout_everywhere(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a logout everywhere, a session it ended is SESSION_NOT_FOUND, and one begun
    after it is ended (two requests: the profile's end time is read from the refusal)."""
    ended = log_in_from(lambda_context, LAPTOP)
    event = as_caller("logout_all", ended["access_token"], lambda_context)
    assert call(handler("logout"), event, lambda_context)[0] == 200
    caller = log_in_from(lambda_context, LAPTOP)
    later = log_in_from(lambda_context, PHONE)

    assert delete_session(lambda_context, caller["access_token"], sid(ended)) == error(
        ErrorCode.SESSION_NOT_FOUND
    )
    event = as_caller("delete_session_success", caller["access_token"], lambda_context)
    event["pathParameters"] = {"session_id": sid(later)}
    dynamodb_requests.clear()
    assert call(handler("delete_session"), event, lambda_context)[0] == 200
    assert sum(dynamodb_requests.values()) == 2
    assert authorized(lambda_context, later["access_token"]) is None
