"""Security activity: the events each change writes in its own request, and GET
/api/account/activity's pages of them, newest first, one Query each (moto)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from lockbox.activity import activity_records
from lockbox.activity.activity_inputs import activity_cursor
from lockbox.core.errors import ErrorCode
from lockbox.items.cursors import make_cursor
from tests.handlers.accounts import USER
from tests.handlers.calls import call, handler, without_details
from tests.handlers.sessions import LoginClock, as_caller, log_in, refresh, token

WRONG = "not-the-password"


def activity(context: Any, access_token: str, cursor: str | None = None) -> dict[str, Any]:
    event = as_caller("list_activity_success", access_token, context)
    if cursor is not None:
        event["queryStringParameters"] = {"cursor": cursor}
    status, body = call(handler("list_activity"), event, context)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def names(context: Any, access_token: str) -> list[str]:
    return [event["event"] for event in activity(context, access_token)["events"]]


def test_list_activity_of_logins_failures_and_lockout_newest_first(
    user_id: str, lambda_context: Any, login_clock: LoginClock
) -> None:
    """Given 5 wrong passwords (the 5th starts the lock) and, once it has passed, a login,
    the log reads login, locked_out, then 5 login_failed, newest first, each with the
    request's User-Agent and source IP; the login names its session."""
    for _ in range(5):
        assert token(lambda_context, USER["username"], WRONG)[0] == 401
    login_clock.advance(1)  # the first lock lasts a second
    data = log_in(lambda_context)

    page = activity(lambda_context, data["access_token"])

    events = page["events"]
    assert [e["event"] for e in events] == ["login", "locked_out"] + ["login_failed"] * 5
    assert page["cursor"] is None
    assert events[0]["session_id"] is not None
    assert {e["user_agent"] for e in events} == {"curl/8.5.0"}
    assert {e["source_ip"] for e in events} == {"203.0.113.25"}
    assert events[0]["at"] >= events[-1]["at"]
    assert events[0]["at"].endswith("+00:00")


def test_a_login_and_its_event_are_one_request(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a login and a failed one, each makes its two requests, the event included."""
    dynamodb_requests.clear()
    log_in(lambda_context)
    assert sum(dynamodb_requests.values()) == 2
    dynamodb_requests.clear()
    assert token(lambda_context, USER["username"], WRONG)[0] == 401
    assert sum(dynamodb_requests.values()) == 2


def test_logout_session_end_reuse_and_password_change_are_recorded(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a session ended from another, a refresh token reused after the grace window,
    a logout and a password change, each is recorded with the session it concerns."""
    from lockbox.sessions import session_records

    caller = log_in(lambda_context)
    other = log_in(lambda_context)
    other_sid = as_caller("logout_success", other["access_token"], lambda_context)[
        "requestContext"
    ]["authorizer"]["sid"]
    event = as_caller("delete_session_success", caller["access_token"], lambda_context)
    event["pathParameters"] = {"session_id": other_sid}
    assert call(handler("delete_session"), event, lambda_context)[0] == 200
    reused = log_in(lambda_context)
    assert refresh(lambda_context, reused["refresh_token"])[0] == 200
    monkeypatch.setattr(session_records, "REUSE_GRACE_MILLISECONDS", -1)
    assert refresh(lambda_context, reused["refresh_token"])[0] == 401
    leaving = log_in(lambda_context)
    assert (
        call(
            handler("logout"),
            as_caller("logout_success", leaving["access_token"], lambda_context),
            lambda_context,
        )[0]
        == 200
    )
    body = {"current_password": USER["password"], "new_password": "another-good-password"}
    change = as_caller("change_password_success", caller["access_token"], lambda_context, body)
    assert call(handler("change_password"), change, lambda_context)[0] == 200

    events = activity(lambda_context, caller["access_token"])["events"]

    recorded = [e["event"] for e in events if e["event"] != "login"]
    assert recorded == ["password_changed", "logout", "refresh_reuse", "session_ended"]
    assert next(e for e in events if e["event"] == "session_ended")["session_id"] == other_sid


def test_events_never_hold_a_secret(user_id: str, lambda_context: Any, aws_tables: Any) -> None:
    """Given logins, a refresh and a failure, no stored event holds a password, a token or
    a refresh token's secret, and each expires 90 days after it was written."""
    data = log_in(lambda_context)
    _, refreshed = refresh(lambda_context, data["refresh_token"])
    token(lambda_context, USER["username"], WRONG)
    items = [
        item
        for item in aws_tables.scan(TableName="UsersTable")["Items"]
        if item["pk"]["S"].startswith("EVENT#")
    ]

    text = json.dumps(items)
    assert len(items) == 2
    for secret in (USER["password"], WRONG, data["access_token"], data["refresh_token"]):
        assert secret not in text
    assert refreshed["data"]["refresh_token"].rsplit(".", 1)[1] not in text
    for item in items:
        written = int(item["ordered_at"]["N"]) // 1_000_000
        assert int(item["expires_at"]["N"]) - written == 90 * 86_400


def test_list_activity_pages_of_50_with_cursors_one_query_each(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given 60 events, the first page has the 50 newest and a cursor, the next the 10
    left and none; one Query per page."""
    caller = log_in(lambda_context)
    from lockbox.core import dynamodb

    for _ in range(59):
        put = activity_records.put_event(user_id, activity_records.Activity("logout"))
        dynamodb.transact_write([put])
    dynamodb_requests.clear()

    first = activity(lambda_context, caller["access_token"])
    assert dynamodb_requests["Query"] == 1
    second = activity(lambda_context, caller["access_token"], first["cursor"])

    assert len(first["events"]) == 50
    assert len(second["events"]) == 10
    assert second["cursor"] is None
    assert dynamodb_requests["Query"] == 2
    ats = [e["at"] for e in first["events"] + second["events"]]
    assert ats == sorted(ats, reverse=True)
    assert second["events"][-1]["event"] == "login"


def test_list_activity_refuses_foreign_and_made_up_cursors(
    user_id: str, lambda_context: Any, jwt_signing_key: str
) -> None:
    """Given a cursor of another user, a key listing's cursor and text that is none,
    400 INVALID_PARAMETER with details for cursor."""
    caller = log_in(lambda_context)
    foreign = activity_cursor("someone-else", (1, "EVENT#someone-else#1#00000000"))
    listing = make_cursor(user_id, "", "a key")

    for cursor in (foreign, listing, "not-a-cursor"):
        event = as_caller("list_activity_success", caller["access_token"], lambda_context)
        event["queryStringParameters"] = {"cursor": cursor}
        status, body = call(handler("list_activity"), event, lambda_context)
        assert without_details((status, body)) == (400, _error(ErrorCode.INVALID_PARAMETER))
        assert body["details"][0]["field"] == "cursor"


def test_list_activity_invalid_cursor_event_file(user_id: str, lambda_context: Any) -> None:
    """Given events/list_activity_invalid_cursor.json, 400 INVALID_PARAMETER."""
    caller = log_in(lambda_context)
    event = as_caller("list_activity_invalid_cursor", caller["access_token"], lambda_context)

    assert call(handler("list_activity"), event, lambda_context)[0] == 400


def _error(code: ErrorCode) -> dict[str, Any]:
    from lockbox.core.responses import error_body

    return error_body(code)
