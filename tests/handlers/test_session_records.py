"""Session and account records at their edges: ending what is already gone, and profiles
written before they kept the password hash."""

from __future__ import annotations

from typing import Any

from lockbox.accounts import account_records
from lockbox.accounts.passwords import verify_password
from lockbox.sessions import session_records
from tests.handlers.calls import USER, register

TABLE = "UsersTable"


def test_ending_a_session_that_does_not_exist_writes_nothing(aws_tables: Any) -> None:
    """Given no such session, ending it is no error and creates no item."""
    session_records.end_session("no-such-session", "some-user")

    assert aws_tables.scan(TableName=TABLE)["Items"] == []


def test_ending_every_session_of_a_deleted_user_writes_nothing(aws_tables: Any) -> None:
    """Given no such profile, ending its sessions is no error and creates no profile."""
    session_records.end_all_sessions("deleted-user")

    assert aws_tables.scan(TableName=TABLE)["Items"] == []


def test_a_session_of_another_user_is_not_ended(aws_tables: Any, lambda_context: Any) -> None:
    """Given a session item of one user, another user's id cannot end it."""
    aws_tables.put_item(
        TableName=TABLE,
        Item={"pk": {"S": session_records.session_pk("s1")}, "user_id": {"S": "owner"}},
    )

    session_records.end_session("s1", "someone-else")

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
