"""Writes whose answer was lost and that botocore retried still answer as the first attempt did.

botocore retries a request after a timeout or a dropped connection; by then the first
attempt may have written. The retry must not turn the caller's own success into
KEY_EXISTS (store) or KEY_NOT_FOUND (delete), nor a registration into USERNAME_EXISTS.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lockbox import item_table, user_table

USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"


def fixed_write_id(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(item_table.uuid, "uuid4", lambda: uuid.UUID(value))


@pytest.mark.usefixtures("aws_tables")
def test_store_meeting_its_own_earlier_attempt_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a store whose first attempt wrote (same write id), when it runs again, then True."""
    fixed_write_id(monkeypatch, "11111111-1111-4111-8111-111111111111")
    assert item_table.put_new_item(USER_ID, "notes", '"first"') is True

    assert item_table.put_new_item(USER_ID, "notes", '"first"') is True


@pytest.mark.usefixtures("aws_tables")
def test_store_meeting_another_write_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the key written by another call (another write id), then False: KEY_EXISTS."""
    fixed_write_id(monkeypatch, "11111111-1111-4111-8111-111111111111")
    item_table.put_new_item(USER_ID, "notes", '"first"')
    fixed_write_id(monkeypatch, "22222222-2222-4222-8222-222222222222")

    assert item_table.put_new_item(USER_ID, "notes", '"second"') is False
    assert item_table.get_item_value(USER_ID, "notes") == '"first"'


class FailingDelete:
    """A client whose DeleteItem fails its condition, after `retries` retried attempts."""

    def __init__(self, retries: int) -> None:
        self.retries = retries

    def delete_item(self, **_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "ConditionalCheckFailedException", "Message": "failed"},
                "ResponseMetadata": {"RetryAttempts": self.retries},
            },
            "DeleteItem",
        )


@pytest.mark.parametrize(("retries", "deleted"), [(0, False), (1, True), (2, True)])
def test_delete_whose_retry_finds_nothing_has_deleted(
    monkeypatch: pytest.MonkeyPatch, retries: int, deleted: bool
) -> None:
    """Given a delete whose condition fails, then it is KEY_NOT_FOUND on a first attempt,
    and done on a retried one (the lost first attempt deleted the item)."""
    monkeypatch.setattr(item_table, "dynamodb", lambda: FailingDelete(retries))

    assert item_table.delete_item(USER_ID, "notes") is deleted


def test_registration_transaction_carries_an_idempotency_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a registration, its transaction has a ClientRequestToken, fresh per attempt."""
    sent: list[dict[str, Any]] = []

    class Recorder:
        def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
            sent.append(kwargs)
            return {}

    monkeypatch.setattr(user_table, "dynamodb", lambda: Recorder())
    user = user_table.NewUser(
        user_id="u1",
        username="alice",
        email="alice@example.com",
        password_hash="hash",
        created_at="2026-11-21T00:00:00.000+00:00",
        profile={},
    )

    user_table.create_user(user)
    user_table.create_user(user)

    tokens = [request["ClientRequestToken"] for request in sent]
    assert all(tokens)
    assert tokens[0] != tokens[1]
