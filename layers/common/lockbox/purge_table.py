"""Data access for purging a deleted user's items: a page of their keys, then deletes
of at most 25 keys per BatchWriteItem (DynamoDB's limit)."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from lockbox.aws import dynamodb
from lockbox.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

PAGE_SIZE = 1000
_BATCH_SIZE = 25
_UNPROCESSED_BACKOFF_SECONDS = 0.05
_UNPROCESSED_ROUNDS = 10


class PurgeStalledError(Exception):
    """DynamoDB kept some deletes unprocessed (throttling); the purge is retried later."""


def key_page(user_id: str) -> list[dict[str, Any]]:
    """Up to PAGE_SIZE of the user's item keys: always the first page, since every page
    read is deleted before the next is asked for (so a retried purge resumes by itself)."""
    response = dynamodb().query(
        TableName=get_settings().items_table,
        KeyConditionExpression="user_id = :user_id",
        ExpressionAttributeValues={":user_id": {"S": user_id}},
        ProjectionExpression="user_id, #key",
        ExpressionAttributeNames={"#key": "key"},
        Limit=PAGE_SIZE,
    )
    return list(response.get("Items", []))


def delete_keys(keys: list[dict[str, Any]]) -> None:
    """Delete these items, 25 per BatchWriteItem, retrying what DynamoDB left unprocessed."""
    table = get_settings().items_table
    client = dynamodb()
    for start in range(0, len(keys), _BATCH_SIZE):
        requests: list[WriteRequestTypeDef] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_SIZE]
        ]
        for attempt in range(_UNPROCESSED_ROUNDS):
            response = client.batch_write_item(RequestItems={table: requests})
            unprocessed = response.get("UnprocessedItems", {}).get(table, [])
            requests = [{"DeleteRequest": {"Key": r["DeleteRequest"]["Key"]}} for r in unprocessed]
            if not requests:
                break
            time.sleep(_UNPROCESSED_BACKOFF_SECONDS * 2**attempt * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)
        else:
            raise PurgeStalledError
