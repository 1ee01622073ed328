"""Faults: DynamoDB failing after the SDK's retries, Secrets Manager unreachable, surprises.

Each answers 500 INTERNAL_ERROR in the envelope and leaves no partial write behind.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from lockbox.accounts import account_records
from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.settings import get_settings
from lockbox.items import item_records
from lockbox.items.item_records import UnknownOutcomeError, WriteOutcome
from lockbox_local.events import load_event
from lockbox_local.ports import free_port
from tests.handlers.accounts import USER, register
from tests.handlers.calls import call, conflict_once, error, handler, with_user
from tests.handlers.items import event_for_key
from tests.support import secrets_manager_unreachable

INTERNAL_ERROR = error(ErrorCode.INTERNAL_ERROR)


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "simulated"}}, operation)


FAULTS: dict[str, Callable[[str], Exception]] = {
    "internal-server-error": lambda op: client_error("InternalServerError", op),
    "throughput-exceeded": lambda op: client_error("ProvisionedThroughputExceededException", op),
    "access-denied": lambda op: client_error("AccessDeniedException", op),
    "connection-error": lambda op: EndpointConnectionError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
    ),
    "read-timeout": lambda op: ReadTimeoutError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
    ),
    "unexpected": lambda op: RuntimeError("something nobody planned for"),
}


def make_failing(monkeypatch: pytest.MonkeyPatch, method: str, fault: str) -> None:
    """Make the layer's DynamoDB client raise `fault` from `method`."""
    operation = "".join(part.title() for part in method.split("_"))

    def failing(**_: Any) -> None:
        raise FAULTS[fault](operation)

    monkeypatch.setattr(dynamodb.client(), method, failing)


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    return list(client.scan(TableName=table)["Items"])


def assert_accounts_consistent(client: Any) -> None:
    """Every marker points at an existing profile, and every profile has its markers."""
    items = {item["pk"]["S"]: item for item in scan(client, "UsersTable")}
    profiles = {pk[len("USER#") :]: item for pk, item in items.items() if pk.startswith("USER#")}
    for pk, item in items.items():
        if not pk.startswith("USER#"):
            assert item["user_id"]["S"] in profiles, f"orphan marker {pk}"
    for user_id, profile in profiles.items():
        assert items.get(f"EMAIL#{profile['email']['S'].lower()}", {}).get("user_id") == {
            "S": user_id
        }
        if "username" in profile:
            assert items.get(f"USERNAME#{profile['username']['S'].lower()}", {}).get("user_id") == {
                "S": user_id
            }


@pytest.mark.parametrize("fault", FAULTS)
def test_register_fault_is_internal_error_and_writes_nothing(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Given the transaction failing, 500 INTERNAL_ERROR and an empty users table."""
    make_failing(monkeypatch, "transact_write_items", fault)

    assert (
        call(handler("register"), load_event("register_success"), lambda_context) == INTERNAL_ERROR
    )
    assert scan(aws_tables, "UsersTable") == []


def test_register_fault_next_to_an_existing_account_leaves_it_intact(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an account and a failing registration, the table is as before."""
    register(lambda_context, username="janedoe", email="jane@example.com")
    before = scan(aws_tables, "UsersTable")
    make_failing(monkeypatch, "transact_write_items", "internal-server-error")

    register(lambda_context)

    assert scan(aws_tables, "UsersTable") == before
    assert_accounts_consistent(aws_tables)


def test_refused_registrations_leave_accounts_consistent(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given clashes on username, on email and on both, no half-written account remains."""
    register(lambda_context)
    register(lambda_context, username="johndoe", email="new@example.com")
    register(lambda_context, username="newname", email="JOHN.DOE@example.com")
    register(lambda_context, username="JOHNDOE", email="john.doe@EXAMPLE.com")

    # The account: its profile, its two markers and its verification mail request.
    assert len(scan(aws_tables, "UsersTable")) == 4
    assert_accounts_consistent(aws_tables)


def test_transaction_conflict_is_retried_then_succeeds(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given one TransactionConflict cancellation, the registration is retried and succeeds."""
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)
    calls = conflict_once(
        monkeypatch, "transact_write_items", ["None", "TransactionConflict", "None"]
    )

    status, _ = call(handler("register"), load_event("register_success"), lambda_context)

    assert status == 200
    assert len(calls) == 2
    assert_accounts_consistent(aws_tables)


def test_endless_transaction_conflict_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given conflicts on every retry, 500 INTERNAL_ERROR."""
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)

    def always_conflict(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "TransactionConflict"}] * 3,
            },
            "TransactWriteItems",
        )

    monkeypatch.setattr(dynamodb.client(), "transact_write_items", always_conflict)

    assert (
        call(handler("register"), load_event("register_success"), lambda_context) == INTERNAL_ERROR
    )


@pytest.mark.parametrize("fault", ["internal-server-error", "connection-error", "unexpected"])
def test_token_lookup_fault_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Given the login's attempt count (which reads the login record) failing, 500."""
    register(lambda_context)
    make_failing(monkeypatch, "update_item", fault)

    assert call(handler("token"), load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_token_with_secrets_manager_unreachable_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given Secrets Manager unreachable, a valid login is 500 INTERNAL_ERROR."""
    register(lambda_context)
    secrets_manager_unreachable()

    assert call(handler("token"), load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_token_with_secret_missing_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the signing secret missing, a valid login is 500 INTERNAL_ERROR."""
    register(lambda_context)
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/deleted-secret")
    get_settings.cache_clear()

    assert call(handler("token"), load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_wrong_password_does_not_need_the_secret(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given Secrets Manager unreachable, a wrong password is still INVALID_CREDENTIALS (not a 500)."""
    register(lambda_context)
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))
    get_settings.cache_clear()

    result = call(handler("token"), load_event("token_wrong_password"), lambda_context)

    assert result == error(ErrorCode.INVALID_CREDENTIALS)


@pytest.mark.parametrize("fault", ["internal-server-error", "connection-error", "unexpected"])
def test_store_fault_is_internal_error_and_writes_nothing(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Given PutItem failing, 500 INTERNAL_ERROR and nothing stored."""
    make_failing(monkeypatch, "put_item", fault)

    assert (
        call(handler("store_item"), load_event("store_item_success"), lambda_context)
        == INTERNAL_ERROR
    )
    assert scan(aws_tables, "ItemsTable") == []


@pytest.mark.parametrize(
    ("method", "handler_name", "event_name", "fault"),
    [
        ("get_item", "get", "get_item_success", "read-timeout"),
        ("update_item", "update", "update_item_success", "internal-server-error"),
        ("transact_write_items", "delete", "delete_item_success", "throughput-exceeded"),
        ("query", "list", "list_items_success", "connection-error"),
    ],
)
def test_data_call_fault_is_internal_error_and_keeps_the_item(
    aws_tables: Any,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    handler_name: str,
    event_name: str,
    fault: str,
) -> None:
    """Given GetItem, UpdateItem, the delete's transaction or Query failing, 500 and the
    item unchanged."""
    call(handler("store_item"), load_event("store_item_success"), lambda_context)
    before = scan(aws_tables, "ItemsTable")
    make_failing(monkeypatch, method, fault)
    function = {
        "get": handler("get_item"),
        "update": handler("update_item"),
        "delete": handler("delete_item"),
        "list": handler("list_items"),
    }[handler_name]

    assert call(function, load_event(event_name), lambda_context) == INTERNAL_ERROR
    assert scan(aws_tables, "ItemsTable") == before


def test_missing_table_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a misconfigured table name (ResourceNotFoundException from moto), then 500."""
    monkeypatch.setenv("ITEMS_TABLE", "NoSuchTable")
    get_settings.cache_clear()

    event = event_for_key("get_item_success", "notes", "user-1")

    assert call(handler("get_item"), event, lambda_context) == INTERNAL_ERROR


def test_internal_error_body_has_no_trace_or_cause(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an unexpected exception, the body shows no traceback, cause or password."""
    make_failing(monkeypatch, "transact_write_items", "unexpected")

    response = handler("register")(load_event("register_success"), lambda_context)

    assert "Traceback" not in response["body"]
    assert "something nobody planned for" not in response["body"]
    assert USER["password"] not in response["body"]


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


# --- swap (increment, patch) --------------------------------------------------------------


@pytest.mark.parametrize("exists", [True, False], ids=["update", "create"])
def test_swap_whose_answer_was_lost_succeeds(
    retried: Callable[..., Retrying], aws_tables: Any, exists: bool
) -> None:
    """Given a swap over the version read whose first attempt wrote, the retry's condition
    fails on its own version: success, with that etag."""
    if exists:
        store_directly(aws_tables, "notes", "v1", EARLIER)
    seen = item_records.read_item(USER_ID, "notes")
    retried("lost")

    etag = item_records.swap_item_value(USER_ID, "notes", seen, '"mine"')

    assert etag is not None
    assert item_records.read_item(USER_ID, "notes") == item_records.StoredItem('"mine"', etag)


def test_swap_retry_meeting_a_version_written_meanwhile_is_unknown(
    retried: Callable[..., Retrying], aws_tables: Any
) -> None:
    """Given a lost swap, then another writer's version: reading again could apply the
    change twice, so the retry raises (a 500) rather than answer None (read again)."""
    store_directly(aws_tables, "notes", "v1", EARLIER)
    seen = item_records.read_item(USER_ID, "notes")
    retried("lost", lambda: store_directly(aws_tables, "notes", "v3", LATER))

    with pytest.raises(UnknownOutcomeError):
        item_records.swap_item_value(USER_ID, "notes", seen, '"mine"')


def test_swap_over_a_version_replaced_since_the_read_is_none(aws_tables: Any) -> None:
    """Without any retry, a version written since the read makes the swap answer None."""
    store_directly(aws_tables, "notes", "v1", EARLIER)
    seen = item_records.read_item(USER_ID, "notes")
    store_directly(aws_tables, "notes", "v2", LATER)

    assert item_records.swap_item_value(USER_ID, "notes", seen, '"mine"') is None
    assert stored_value(aws_tables, "notes") == '"theirs"'


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

    assert (
        call(handler("delete_item"), event, lambda_context)[0] == error(ErrorCode.KEY_NOT_FOUND)[0]
    )


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
