"""The one way to DynamoDB: the client, transactions and the reading of refusals.

Every data module calls `dynamodb.client()` through this module (never a copy of the
getter), so one botocore event hook on the client sees every request: the tests forbid or
count requests that way, and a new data module cannot slip past them.

Transactions are sent again while another transaction holds one of their items: DynamoDB
cancels a transaction that touches an item another in-flight transaction is writing
(cancellation reason TransactionConflict). That other write commits or fails within
milliseconds, so the transaction is retried a few times with jittered backoff rather than
answered with a 500. Any other cancellation (a failed condition, above all) is the
caller's to judge: it is raised at once, its reasons readable through
`cancellation_reasons`.
"""

from __future__ import annotations

import random
import secrets
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        KeysAndAttributesTypeDef,
        TransactWriteItemTypeDef,
    )

CONFLICT_RETRIES = 8
UNPROCESSED_RETRIES = 7  # with backoff() that is under a second in all
CONFLICT_BACKOFF_SECONDS = 0.02
CONDITION_FAILED = "ConditionalCheckFailed"


@cache
def client() -> DynamoDBClient:
    """The container's DynamoDB client, created on first use (never at import)."""
    from lockbox.core.aws_clients import new_client

    # AWS_ENDPOINT_URL_DYNAMODB, when set, points this client at DynamoDB Local.
    dynamodb: DynamoDBClient = new_client("dynamodb")
    return dynamodb


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def condition_failed(error: ClientError) -> bool:
    """A single-item write refused by its ConditionExpression."""
    return error_code(error) == f"{CONDITION_FAILED}Exception"


def cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    """Each item's reason of a cancelled transaction (with ALL_OLD items where asked),
    in the order of the items; None for any other error."""
    if error_code(error) != "TransactionCanceledException":
        return None
    return [dict(reason) for reason in error.response.get("CancellationReasons", [])]


def cancellation_codes(error: ClientError) -> list[str] | None:
    reasons = cancellation_reasons(error)
    return None if reasons is None else [reason.get("Code", "None") for reason in reasons]


def is_condition_reason(reason: dict[str, Any]) -> bool:
    """One item's cancellation reason says its condition failed."""
    return reason.get("Code") == CONDITION_FAILED


def cancelled_by_condition(error: ClientError) -> bool:
    """A transaction cancelled because at least one item's condition failed."""
    return CONDITION_FAILED in (cancellation_codes(error) or [])


# Jitter from the OS's randomness, not the `random` module's state: environments resumed
# from one SnapStart snapshot (template parameter SnapStart) share that state, and racers
# that drew the same waits would collide again.
_JITTER = random.SystemRandom()


def jitter(low: float = 0.5, high: float = 1.5) -> float:
    """A random factor from `low` to `high` that spreads the waits of racing retries."""
    return _JITTER.uniform(low, high)


def backoff(attempt: int) -> None:
    """Wait before attempt `attempt + 1`: longer each time, jittered so racers spread out."""
    time.sleep(CONFLICT_BACKOFF_SECONDS * (attempt + 1) * jitter())


def _only_conflicts(error: ClientError) -> bool:
    codes = cancellation_codes(error) or []
    return "TransactionConflict" in codes and CONDITION_FAILED not in codes


def transact_write(items: list[TransactWriteItemTypeDef], *, token: str | None = None) -> None:
    """TransactWriteItems with an idempotency token, so that botocore's own retry of a
    committed transaction (its answer lost) succeeds again without effect. `token` keeps
    one token across the conflict retries too; without it each attempt gets a fresh one."""
    dynamodb = client()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            dynamodb.transact_write_items(
                TransactItems=items, ClientRequestToken=token or secrets.token_hex(16)
            )
            return
        except ClientError as error:
            if attempt == CONFLICT_RETRIES or not _only_conflicts(error):
                raise
        backoff(attempt)


def get_items(
    table: str,
    keys: list[dict[str, Any]],
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any] | None]:
    """The items at these keys of one table (None where there is none), in the order asked,
    strongly consistent: one BatchGetItem. Unlike a TransactGetItems it costs one read unit
    per item, not two, and no transaction writing an item can cancel it; the items are read
    one by one, each as of its own read. Keys DynamoDB leaves unprocessed (throttling) are
    asked again, alone, a bounded number of times. `names`: the projection's placeholders
    for reserved words (#k for "key")."""
    found: dict[str, dict[str, Any]] = {}
    pending: list[dict[str, Any]] = list(keys)
    for attempt in range(UNPROCESSED_RETRIES + 1):
        request: KeysAndAttributesTypeDef = {"Keys": pending, "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = names
        response = client().batch_get_item(RequestItems={table: request})
        for item in response.get("Responses", {}).get(table, []):
            found[_key_text(item, keys[0])] = item
        unprocessed = response.get("UnprocessedKeys", {}).get(table)
        pending = list(unprocessed["Keys"]) if unprocessed else []
        if not pending:
            return [found.get(_key_text(key, key)) for key in keys]
        if attempt < UNPROCESSED_RETRIES:
            backoff(attempt)
    raise UnprocessedKeysError(f"{len(pending)} key(s) left unprocessed by BatchGetItem")


class UnprocessedKeysError(RuntimeError):
    """DynamoDB kept leaving keys unprocessed after every retry (sustained throttling)."""


def _key_text(item: dict[str, Any], key: dict[str, Any]) -> str:
    """The item's key attributes (named by `key`) as one comparable text."""
    return repr(sorted((name, item[name]) for name in key))
