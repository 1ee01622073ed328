"""Faults: DynamoDB failing after the SDK's retries, the secrets extension down, surprises.

Each answers 500 INTERNAL_ERROR in the envelope and leaves no partial write behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.settings import get_settings
from lockbox_local.ports import free_port
from tests.handlers.calls import (
    USER,
    call,
    conflict_once,
    delete_handler,
    error,
    event_for_key,
    get_handler,
    list_handler,
    load_event,
    register,
    register_handler,
    store_handler,
    token_handler,
    update_handler,
)

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

    assert call(register_handler, load_event("register_success"), lambda_context) == INTERNAL_ERROR
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

    assert len(scan(aws_tables, "UsersTable")) == 3
    assert_accounts_consistent(aws_tables)


def test_transaction_conflict_is_retried_then_succeeds(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given one TransactionConflict cancellation, the registration is retried and succeeds."""
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)
    calls = conflict_once(
        monkeypatch, "transact_write_items", ["None", "TransactionConflict", "None"]
    )

    status, _ = call(register_handler, load_event("register_success"), lambda_context)

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

    assert call(register_handler, load_event("register_success"), lambda_context) == INTERNAL_ERROR


@pytest.mark.parametrize("fault", ["internal-server-error", "connection-error", "unexpected"])
def test_token_lookup_fault_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Given the login's attempt count (which reads the login record) failing, 500."""
    register(lambda_context)
    make_failing(monkeypatch, "update_item", fault)

    assert call(token_handler, load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_token_with_secrets_extension_unreachable_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the secrets extension unreachable, a valid login is 500 INTERNAL_ERROR."""
    register(lambda_context)
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))
    get_settings.cache_clear()

    assert call(token_handler, load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_token_with_secret_missing_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the signing secret missing, a valid login is 500 INTERNAL_ERROR."""
    register(lambda_context)
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/deleted-secret")
    get_settings.cache_clear()

    assert call(token_handler, load_event("token_success"), lambda_context) == INTERNAL_ERROR


def test_wrong_password_does_not_need_the_secret(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the extension down, a wrong password is still INVALID_CREDENTIALS (not a 500)."""
    register(lambda_context)
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))
    get_settings.cache_clear()

    result = call(token_handler, load_event("token_wrong_password"), lambda_context)

    assert result == error(ErrorCode.INVALID_CREDENTIALS)


@pytest.mark.parametrize("fault", ["internal-server-error", "connection-error", "unexpected"])
def test_store_fault_is_internal_error_and_writes_nothing(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Given PutItem failing, 500 INTERNAL_ERROR and nothing stored."""
    make_failing(monkeypatch, "put_item", fault)

    assert call(store_handler, load_event("store_item_success"), lambda_context) == INTERNAL_ERROR
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
    call(store_handler, load_event("store_item_success"), lambda_context)
    before = scan(aws_tables, "ItemsTable")
    make_failing(monkeypatch, method, fault)
    handler = {
        "get": get_handler,
        "update": update_handler,
        "delete": delete_handler,
        "list": list_handler,
    }[handler_name]

    assert call(handler, load_event(event_name), lambda_context) == INTERNAL_ERROR
    assert scan(aws_tables, "ItemsTable") == before


def test_missing_table_is_internal_error(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a misconfigured table name (ResourceNotFoundException from moto), then 500."""
    monkeypatch.setenv("ITEMS_TABLE", "NoSuchTable")
    get_settings.cache_clear()

    event = event_for_key("get_item_success", "notes", "user-1")

    assert call(get_handler, event, lambda_context) == INTERNAL_ERROR


def test_internal_error_body_has_no_trace_or_cause(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an unexpected exception, the body shows no traceback, cause or password."""
    make_failing(monkeypatch, "transact_write_items", "unexpected")

    response = register_handler(load_event("register_success"), lambda_context)

    assert "Traceback" not in response["body"]
    assert "something nobody planned for" not in response["body"]
    assert USER["password"] not in response["body"]
