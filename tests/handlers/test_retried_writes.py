"""Writes that botocore retried still answer what their first attempt did, or 500.

botocore retries a request after a timeout, a dropped connection or throttling. When the
answer was lost, the first attempt may have written; when it was throttled, it did
nothing. Either way the retry must answer the truth (SPEC.md, "Faults"): a DELETE of a key
that never existed is KEY_NOT_FOUND, a store that stored is a success, and so on.

`Retrying` wraps the moto client and replays what botocore does: the first attempt either
runs and its answer is lost, or is throttled without running; then the same request is
sent again, and its answer (or error) carries RetryAttempts 1. Like DynamoDB, it answers a
TransactWriteItems whose ClientRequestToken already committed with success and no effect.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lockbox.accounts import account_records
from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.items import item_records
from lockbox.items.item_records import UnknownOutcomeError, WriteOutcome
from tests.handlers.calls import call, delete_handler, error, event_for_key, with_user

USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
WRITES = ("put_item", "update_item", "transact_write_items")


class Retrying:
    """A DynamoDB client whose writes are retried once, as botocore retries them.

    lost: the first attempt runs and its answer is lost. throttled: it does not run.
    `between` runs between the attempts (another writer's request, say).
    """

    def __init__(
        self, real: Any, first_attempt: str, between: Callable[[], None] = lambda: None
    ) -> None:
        self.real = real
        self.first_attempt = first_attempt
        self.between = between
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.committed_tokens: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if name not in WRITES:
            return getattr(self.real, name)
        return lambda **request: self._retried(name, request)

    def _attempt(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((name, request))
        token = request.get("ClientRequestToken")
        if token in self.committed_tokens:
            return {}  # DynamoDB's idempotent transaction: same token, no second effect
        result: dict[str, Any] = getattr(self.real, name)(**request)
        if token:
            self.committed_tokens.add(token)
        return result

    def _retried(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        if self.first_attempt == "lost":
            with contextlib.suppress(ClientError):  # the answer is lost either way
                self._attempt(name, request)
        else:
            self.sent.append((name, request))  # throttled: DynamoDB did nothing
        self.between()
        try:
            result = self._attempt(name, request)
        except ClientError as failure:
            failure.response.setdefault("ResponseMetadata", {})["RetryAttempts"] = 1
            raise
        result.setdefault("ResponseMetadata", {})["RetryAttempts"] = 1
        return result


@pytest.fixture
def retried(aws_tables: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Retrying]:
    """Install a Retrying client over moto for the layer's data calls."""

    def install(first_attempt: str, between: Callable[[], None] = lambda: None) -> Retrying:
        client = Retrying(aws_tables, first_attempt, between)
        monkeypatch.setattr(dynamodb, "client", lambda: client)
        return client

    return install


def store_directly(aws_tables: Any, key: str, etag: str, updated_at: str) -> None:
    aws_tables.put_item(
        TableName="ItemsTable",
        Item={
            "user_id": {"S": USER_ID},
            "key": {"S": key},
            "value": {"S": '"theirs"'},
            "etag": {"S": etag},
            "created_at": {"S": updated_at},
            "updated_at": {"S": updated_at},
        },
    )


def stored_value(aws_tables: Any, key: str) -> str | None:
    item = aws_tables.get_item(
        TableName="ItemsTable", Key={"user_id": {"S": USER_ID}, "key": {"S": key}}
    ).get("Item")
    return None if item is None else str(item["value"]["S"])


EARLIER = "2020-01-01T00:00:00.000+00:00"  # before any call of these tests began
LATER = "2999-01-01T00:00:00.000+00:00"  # during the call, as far as the call can tell


# --- store -------------------------------------------------------------------------------


def test_store_whose_answer_was_lost_succeeds(retried: Callable[..., Retrying]) -> None:
    """Given a store whose first attempt stored, when retried, then success and its etag."""
    retried("lost")

    etag = item_records.put_new_item(USER_ID, "notes", '"first"', None)

    assert etag is not None
    assert item_records.read_item(USER_ID, "notes") == item_records.StoredItem('"first"', etag)


def test_throttled_store_of_an_existing_key_is_key_exists(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a key stored before the call, a throttled and retried store is refused."""
    store_directly(aws_tables, "notes", "theirs", EARLIER)
    retried("throttled")

    assert item_records.put_new_item(USER_ID, "notes", '"mine"', None) is None
    assert stored_value(aws_tables, "notes") == '"theirs"'


def test_store_retry_meeting_a_version_written_meanwhile_is_unknown(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a store whose lost attempt stored, then another writer replaced the item,
    the retry cannot know it stored first: it raises (a 500), never KEY_EXISTS."""

    def replaced() -> None:
        aws_tables.delete_item(
            TableName="ItemsTable", Key={"user_id": {"S": USER_ID}, "key": {"S": "notes"}}
        )
        store_directly(aws_tables, "notes", "theirs", LATER)

    retried("lost", replaced)

    with pytest.raises(UnknownOutcomeError):
        item_records.put_new_item(USER_ID, "notes", '"mine"', None)


# --- update ------------------------------------------------------------------------------


def test_update_whose_answer_was_lost_succeeds_even_with_if_match(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given If-Match of the stored version and a lost answer, the retry's condition fails
    on the version it wrote itself: success, with that version's etag."""
    store_directly(aws_tables, "notes", "v1", EARLIER)
    retried("lost")

    outcome, etag = item_records.replace_item_value(USER_ID, "notes", '"mine"', None, ("v1",))

    assert outcome is WriteOutcome.DONE
    assert item_records.read_item(USER_ID, "notes") == item_records.StoredItem('"mine"', etag)


def test_throttled_update_with_a_stale_tag_is_a_version_mismatch(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a version written before the call and a stale If-Match, throttled then
    retried: 412's outcome, nothing changed."""
    store_directly(aws_tables, "notes", "v2", EARLIER)
    retried("throttled")

    outcome, _ = item_records.replace_item_value(USER_ID, "notes", '"mine"', None, ("v1",))

    assert outcome is WriteOutcome.VERSION_MISMATCH
    assert stored_value(aws_tables, "notes") == '"theirs"'


def test_throttled_update_of_a_missing_key_is_not_found(
    retried: Callable[..., Retrying],
) -> None:
    retried("throttled")

    outcome, _ = item_records.replace_item_value(USER_ID, "absent", '"mine"', None, None)

    assert outcome is WriteOutcome.NOT_FOUND


def test_update_retry_meeting_a_version_written_meanwhile_is_unknown(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a lost update, then another writer's version: the retry raises (a 500)."""
    store_directly(aws_tables, "notes", "v1", EARLIER)
    retried("lost", lambda: store_directly(aws_tables, "notes", "v3", LATER))

    with pytest.raises(UnknownOutcomeError):
        item_records.replace_item_value(USER_ID, "notes", '"mine"', None, ("v1",))


# --- delete ------------------------------------------------------------------------------


def test_delete_whose_answer_was_lost_succeeds(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a delete whose first attempt deleted, the retry carries the same
    ClientRequestToken and succeeds without a second effect."""
    store_directly(aws_tables, "notes", "v1", EARLIER)
    client = retried("lost")

    assert item_records.remove_item(USER_ID, "notes", None) is WriteOutcome.DONE
    tokens = [request["ClientRequestToken"] for _, request in client.sent]
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert stored_value(aws_tables, "notes") is None


def test_throttled_delete_of_a_never_existing_key_is_not_found(
    retried: Callable[..., Retrying],
) -> None:
    """The defect this fixes: a retried DELETE of a key nobody stored answered 200."""
    retried("throttled")

    assert item_records.remove_item(USER_ID, "never-stored", None) is WriteOutcome.NOT_FOUND


def test_throttled_delete_handler_answers_key_not_found(
    retried: Callable[..., Retrying], lambda_context: Any
) -> None:
    retried("throttled")
    event = with_user(event_for_key("delete_item_success", "never-stored"), USER_ID)

    assert call(delete_handler, event, lambda_context)[0] == error(ErrorCode.KEY_NOT_FOUND)[0]


def test_throttled_delete_with_a_stale_tag_is_a_version_mismatch(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    store_directly(aws_tables, "notes", "v2", EARLIER)
    retried("throttled")

    assert item_records.remove_item(USER_ID, "notes", ("v1",)) is WriteOutcome.VERSION_MISMATCH
    assert stored_value(aws_tables, "notes") == '"theirs"'


def test_each_delete_call_has_its_own_token(retried: Callable[..., Retrying]) -> None:
    """Two DELETE calls are two requests to DynamoDB: fresh tokens, or the second would be
    taken for a retry of the first."""
    client = retried("throttled")

    item_records.remove_item(USER_ID, "a", None)
    item_records.remove_item(USER_ID, "a", None)

    tokens = {request["ClientRequestToken"] for _, request in client.sent}
    assert len(tokens) == 2
    assert all(uuid.UUID(token) for token in tokens)


# --- registration ------------------------------------------------------------------------


def test_registration_transaction_carries_an_idempotency_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a registration, its transaction has a ClientRequestToken, fresh per attempt."""
    sent: list[dict[str, Any]] = []

    class Recorder:
        def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
            sent.append(kwargs)
            return {}

    monkeypatch.setattr(dynamodb, "client", lambda: Recorder())
    user = account_records.NewUser(
        user_id="u1",
        username="alice",
        email="alice@example.com",
        password_hash="hash",
        created_at="2026-11-21T00:00:00.000+00:00",
        profile={},
    )

    account_records.put_user(user)
    account_records.put_user(user)

    tokens = [request["ClientRequestToken"] for request in sent]
    assert all(tokens)
    assert tokens[0] != tokens[1]
