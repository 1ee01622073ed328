"""The account calls, the /users login, profile and logout, and the purge of a deleted
user's items, against moto."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox.items import item_records
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register
from tests.handlers.calls import (
    Answer,
    answer,
    assert_ok,
    call,
    error,
    handler,
    meanwhile,
    without_details,
)
from tests.handlers.sessions import access_token, as_caller, authorized, logout, token

NEW_PASSWORD = "another_password456"


# --- GET /api/account -------------------------------------------------------------------------


def test_account_read_in_one_request(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    event = as_caller("get_account_success", access_token(lambda_context), lambda_context)
    dynamodb_requests.clear()

    status, body = call(handler("get_account"), event, lambda_context)

    assert status == 200
    assert dict(dynamodb_requests) == {"GetItem": 1}
    data = body["data"]
    assert {k: v for k, v in data.items() if k != "created_at"} == {
        "user_id": user_id,
        "username": USER["username"],
        "email": USER["email"],
        "full_name": USER["full_name"],
        "age": USER["age"],
        "gender": USER["gender"],
        "email_verified": False,
    }
    assert data["created_at"].endswith("+00:00")
    assert "hash" not in json.dumps(body)


# --- POST /api/password -----------------------------------------------------------------------


def test_password_change_ends_the_other_sessions_and_the_old_password(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    mine, other = access_token(lambda_context), access_token(lambda_context)
    event = as_caller("change_password_success", mine, lambda_context)
    dynamodb_requests.clear()

    status, body = call(handler("change_password"), event, lambda_context)

    assert (status, body["message"]) == (200, "Password changed successfully.")
    # The contract counts the password check in the name's login protection: one more.
    assert dict(dynamodb_requests) == {
        "BatchGetItem": 1,
        "UpdateItem": 1,
        "TransactWriteItems": 1,
    }
    assert authorized(lambda_context, other) is None
    assert authorized(lambda_context, mine) is not None
    assert token(lambda_context, USER["username"], USER["password"]) == error(
        ErrorCode.INVALID_CREDENTIALS
    )
    assert token(lambda_context, USER["email"], NEW_PASSWORD)[0] == 200
    assert token(lambda_context, USER["username"], NEW_PASSWORD)[0] == 200


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        (
            {"current_password": "not-the-password", "new_password": NEW_PASSWORD},
            ErrorCode.INVALID_CREDENTIALS,
            [],
        ),
        (
            {"current_password": USER["password"], "new_password": "short"},
            ErrorCode.INVALID_PASSWORD,
            ["new_password"],
        ),
        ({"current_password": USER["password"]}, ErrorCode.INVALID_REQUEST, ["new_password"]),
        ({}, ErrorCode.INVALID_REQUEST, ["current_password", "new_password"]),
    ],
)
def test_password_change_refusals(
    user_id: str, lambda_context: Any, body: dict[str, Any], code: ErrorCode, fields: list[str]
) -> None:
    event = as_caller("change_password_success", access_token(lambda_context), lambda_context, body)

    status, answer = call(handler("change_password"), event, lambda_context)

    assert without_details((status, answer)) == error(code)
    assert [d["field"] for d in answer.get("details", [])] == fields
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def change_password(context: Any, caller: str, new_password: str = NEW_PASSWORD) -> Answer:
    body = {"current_password": USER["password"], "new_password": new_password}
    event = as_caller("change_password_success", caller, context, body)
    return call(handler("change_password"), event, context)


def delete_account(context: Any, caller: str) -> Answer:
    event = as_caller("delete_account_success", caller, context, {"password": USER["password"]})
    return call(handler("delete_account"), event, context)


def test_a_password_change_whose_session_ended_meanwhile_is_invalid_token(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the caller's session logged out once its password was checked, the change's
    write refuses it: 401 INVALID_TOKEN, and the old password still logs in."""
    from lockbox.accounts import account_calls

    caller = access_token(lambda_context)
    meanwhile(monkeypatch, account_calls, "step_up", lambda: logout(lambda_context, caller))

    assert change_password(lambda_context, caller) == error(ErrorCode.INVALID_TOKEN)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_password_change_overtaken_by_another_is_invalid_credentials(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two changes from one session, the one whose write comes second finds the
    password it checked replaced: 401 INVALID_CREDENTIALS; the first one's password holds."""
    from lockbox.accounts import account_calls

    caller = access_token(lambda_context)
    first = lambda: change_password(lambda_context, caller, "first_password789")  # noqa: E731
    meanwhile(monkeypatch, account_calls, "step_up", lambda: assert_ok(first()))

    assert change_password(lambda_context, caller) == error(ErrorCode.INVALID_CREDENTIALS)
    assert token(lambda_context, USER["username"], "first_password789")[0] == 200
    assert token(lambda_context, USER["username"], NEW_PASSWORD)[0] == 401


def test_a_deletion_after_a_password_change_meanwhile_is_invalid_credentials(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the password changed (by the same session) once the deletion checked it, the
    deletion answers 401 INVALID_CREDENTIALS and the account stays."""
    from lockbox.accounts import account_calls

    caller = access_token(lambda_context)
    changed = lambda: change_password(lambda_context, caller)  # noqa: E731
    meanwhile(monkeypatch, account_calls, "step_up", lambda: assert_ok(changed()))

    assert delete_account(lambda_context, caller) == error(ErrorCode.INVALID_CREDENTIALS)
    assert token(lambda_context, USER["username"], NEW_PASSWORD)[0] == 200


# --- DELETE /api/account and the purge --------------------------------------------------------


def store_keys(client: Any, owner: str, count: int) -> None:
    for start in range(0, count, 25):
        client.batch_write_item(
            RequestItems={
                "ItemsTable": [
                    {"PutRequest": {"Item": {"user_id": {"S": owner}, "key": {"S": f"k{n:04d}"}}}}
                    for n in range(start, min(start + 25, count))
                ]
            }
        )


def keys_of(client: Any, owner: str) -> int:
    answer = client.query(
        TableName="ItemsTable",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": owner}},
        Select="COUNT",
    )
    return int(answer["Count"])


def removed_profile_record(owner: str) -> dict[str, Any]:
    event = load_event("purge_items_deleted_user")
    event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] = f"USER#{owner}"
    return event


def test_deletion_removes_the_account_and_ends_every_session(
    user_id: str, lambda_context: Any, aws_tables: Any, dynamodb_requests: Counter[str]
) -> None:
    first, second = access_token(lambda_context), access_token(lambda_context)
    event = as_caller("delete_account_success", first, lambda_context)
    dynamodb_requests.clear()

    status, body = call(handler("delete_account"), event, lambda_context)

    assert (status, body["message"]) == (200, "Account deleted successfully.")
    # The contract counts the password check in the name's login protection: one more.
    assert dict(dynamodb_requests) == {
        "BatchGetItem": 1,
        "UpdateItem": 1,
        "TransactWriteItems": 1,
    }
    assert authorized(lambda_context, second) is None
    left = {
        item["pk"]["S"].split("#")[0] for item in aws_tables.scan(TableName="UsersTable")["Items"]
    }
    # Sessions, the activity log and mail requests expire by TTL; nothing else is left.
    assert left == {"SESSION", "EVENT", "MAIL"}
    status, again = register(lambda_context)
    assert status == 200
    assert again["data"]["user_id"] != user_id


def test_deletion_with_a_wrong_password_changes_nothing(user_id: str, lambda_context: Any) -> None:
    event = as_caller(
        "delete_account_success",
        access_token(lambda_context),
        lambda_context,
        {"password": "nope-nope"},
    )

    assert call(handler("delete_account"), event, lambda_context) == error(
        ErrorCode.INVALID_CREDENTIALS
    )
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_purge_deletes_every_key_in_pages(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_records, "PURGE_PAGE_SIZE", 40)
    store_keys(aws_tables, "gone-user", 130)
    store_keys(aws_tables, "kept-user", 3)

    answer = handler("purge_items")(removed_profile_record("gone-user"), lambda_context)

    assert answer == {"batchItemFailures": []}
    assert keys_of(aws_tables, "gone-user") == 0
    assert keys_of(aws_tables, "kept-user") == 3


def test_purge_out_of_time_reports_its_record_for_another_delivery(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given less time left than a page needs, the record is reported for another delivery."""
    store_keys(aws_tables, "gone-user", 10)
    event = removed_profile_record("gone-user")
    monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis", lambda: 1_000)

    answer = handler("purge_items")(event, lambda_context)

    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert keys_of(aws_tables, "gone-user") == 10


def test_purge_failure_is_retried_not_lost(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_keys(aws_tables, "gone-user", 10)

    def failing(_: list[Any]) -> None:
        raise item_records.PurgeStalledError

    monkeypatch.setattr(item_records, "purge_keys", failing)
    answer = handler("purge_items")(removed_profile_record("gone-user"), lambda_context)

    assert answer["batchItemFailures"]
    assert keys_of(aws_tables, "gone-user") == 10


def recheck_marker(client: Any, owner: str) -> dict[str, Any] | None:
    found = client.get_item(TableName="UsersTable", Key={"pk": {"S": f"PURGE#{owner}"}})
    item: dict[str, Any] | None = found.get("Item")
    return item


def test_purge_leaves_a_recheck_marker_expiring_after_the_authorizer_cache(
    aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a removed profile, the purge writes PURGE#<user_id>, whose expires_at (TTL) is
    AuthorizerCacheTtl + ErasureRecheckMargin (60 + 60 by default) from now: one PutItem
    besides the pages (a Query, its BatchWriteItem, the empty Query that ends it)."""
    store_keys(aws_tables, "gone-user", 3)
    before = int(time.time())
    dynamodb_requests.clear()

    answer = handler("purge_items")(removed_profile_record("gone-user"), lambda_context)

    marker = recheck_marker(aws_tables, "gone-user")
    assert answer == {"batchItemFailures": []}
    assert keys_of(aws_tables, "gone-user") == 0
    assert marker is not None
    assert marker["user_id"] == {"S": "gone-user"}
    assert before + 120 <= int(marker["expires_at"]["N"]) <= int(time.time()) + 120
    assert dict(dynamodb_requests) == {"PutItem": 1, "Query": 2, "BatchWriteItem": 1}


def test_second_pass_removes_keys_stored_after_the_first(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a purged user whose cached token stored more keys afterwards, the TTL removal
    of the recheck marker purges them too, and leaves no new marker behind."""
    owner = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"  # the user of the events/ files
    handler("purge_items")(removed_profile_record(owner), lambda_context)
    store_keys(aws_tables, owner, 30)  # through an authorizer decision still cached
    store_keys(aws_tables, "kept-user", 2)
    aws_tables.delete_item(TableName="UsersTable", Key={"pk": {"S": f"PURGE#{owner}"}})

    answer = handler("purge_items")(load_event("purge_items_recheck_expired"), lambda_context)

    assert answer == {"batchItemFailures": []}
    assert keys_of(aws_tables, owner) == 0
    assert keys_of(aws_tables, "kept-user") == 2
    assert recheck_marker(aws_tables, owner) is None


def test_failed_second_pass_is_reported_for_another_delivery(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the second pass failing, its record is reported (retried, then queued)."""
    owner = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
    store_keys(aws_tables, owner, 5)

    def failing(_: list[Any]) -> None:
        raise item_records.PurgeStalledError

    monkeypatch.setattr(item_records, "purge_keys", failing)
    event = load_event("purge_items_recheck_expired")

    answer = handler("purge_items")(event, lambda_context)

    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert keys_of(aws_tables, owner) == 5


def test_purge_ignores_other_records(aws_tables: Any, lambda_context: Any) -> None:
    store_keys(aws_tables, "x", 2)
    event = removed_profile_record("x")
    event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] = "SESSION#x"

    assert handler("purge_items")(event, lambda_context) == {"batchItemFailures": []}
    assert keys_of(aws_tables, "x") == 2


# --- GET /users/profile -----------------------------------------------------------------------


def test_users_profile_of_a_deleted_account_is_unauthorized(
    aws_tables: Any, lambda_context: Any
) -> None:
    event = load_event("users_profile_success")  # its user has no profile here

    assert answer(handler("users_profile"), event, lambda_context) == (
        401,
        {"message": "Unauthorized"},
    )
