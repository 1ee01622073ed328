"""DynamoDB transactions, tried again while another transaction holds one of their items.

DynamoDB cancels a transaction that touches an item another in-flight transaction is
writing (cancellation reason TransactionConflict). That other write commits or fails within
milliseconds, so the transaction is sent again a few times with jittered backoff rather
than answered with a 500. Any other cancellation (a failed condition, above all) is the
caller's to judge: it is raised at once, with its reasons readable through
`cancellation_reasons`.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.aws import dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        TransactGetItemsOutputTypeDef,
        TransactGetItemTypeDef,
        TransactWriteItemTypeDef,
    )

CONFLICT_RETRIES = 8
CONFLICT_BACKOFF_SECONDS = 0.02


def cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    """Each item's reason of a cancelled transaction (with ALL_OLD items where asked),
    in the order of the items; None for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [dict(reason) for reason in error.response.get("CancellationReasons", [])]


def cancellation_codes(error: ClientError) -> list[str] | None:
    reasons = cancellation_reasons(error)
    return None if reasons is None else [reason.get("Code", "None") for reason in reasons]


def backoff(attempt: int) -> None:
    """Wait before attempt `attempt + 1`: longer each time, jittered so racers spread out."""
    time.sleep(CONFLICT_BACKOFF_SECONDS * (attempt + 1) * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not crypto)


def _only_conflicts(error: ClientError) -> bool:
    codes = cancellation_codes(error) or []
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes


def transact_write(items: list[TransactWriteItemTypeDef], *, token: str | None = None) -> None:
    """TransactWriteItems with an idempotency token, so that botocore's own retry of a
    committed transaction (its answer lost) succeeds again without effect. `token` keeps
    one token across the conflict retries too; without it each attempt gets a fresh one."""
    client = dynamodb()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            client.transact_write_items(
                TransactItems=items, ClientRequestToken=token or uuid.uuid4().hex
            )
            return
        except ClientError as error:
            if attempt == CONFLICT_RETRIES or not _only_conflicts(error):
                raise
        backoff(attempt)


def transact_get(items: list[TransactGetItemTypeDef]) -> TransactGetItemsOutputTypeDef:
    """TransactGetItems, sent again while a transaction writing one of the items (a refresh,
    a login) makes DynamoDB cancel it."""
    client = dynamodb()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return client.transact_get_items(TransactItems=items)
        except ClientError as error:
            if attempt == CONFLICT_RETRIES or not _only_conflicts(error):
                raise
        backoff(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
