"""Data access for the items table: partition key user_id, sort key key.

Every call is one conditional request, so a store never overwrites, an update
never creates, and a delete never reports success for something absent.

botocore retries a request whose answer was lost (a timeout, a dropped connection),
and the retry then meets the first attempt's own write. A store tags its item with a
write id so that meeting it counts as success; a delete whose retried attempt finds
nothing to delete has done what was asked.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from lockbox.aws import dynamodb
from lockbox.settings import get_settings


def _key(user_id: str, key: str) -> dict[str, dict[str, str]]:
    return {"user_id": {"S": user_id}, "key": {"S": key}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _was_retried(error: ClientError) -> bool:
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


def put_new_item(user_id: str, key: str, value_json: str) -> bool:
    """Store a new item; False if the user already has this key."""
    now = _now()
    write_id = uuid.uuid4().hex
    try:
        dynamodb().put_item(
            TableName=get_settings().items_table,
            Item={
                **_key(user_id, key),
                "value": {"S": value_json},
                "created_at": {"S": now},
                "updated_at": {"S": now},
                "write_id": {"S": write_id},
            },
            ConditionExpression="attribute_not_exists(user_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if _condition_failed(error):
            return _written_by(error.response, write_id)
        raise
    return True


def _written_by(response: Any, write_id: str) -> bool:
    """Whether the item that failed the condition is this call's own earlier attempt."""
    existing = response.get("Item") or {}
    return bool(existing.get("write_id", {}).get("S") == write_id)


def get_item_value(user_id: str, key: str) -> str | None:
    """The stored JSON text of the value, or None if the user has no such key."""
    response = dynamodb().get_item(
        TableName=get_settings().items_table,
        Key=_key(user_id, key),
        ProjectionExpression="#v",
        ExpressionAttributeNames={"#v": "value"},
        ConsistentRead=True,  # read-your-writes, as a key-value store's clients expect
    )
    item = response.get("Item")
    return None if item is None else item["value"]["S"]


def replace_item_value(user_id: str, key: str, value_json: str) -> bool:
    """Replace the value of an existing item; False if the user has no such key."""
    try:
        dynamodb().update_item(
            TableName=get_settings().items_table,
            Key=_key(user_id, key),
            UpdateExpression="SET #v = :v, updated_at = :now",
            ConditionExpression="attribute_exists(user_id)",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":v": {"S": value_json}, ":now": {"S": _now()}},
        )
    except ClientError as error:
        if _condition_failed(error):
            return False
        raise
    return True


def delete_item(user_id: str, key: str) -> bool:
    """Delete an existing item; False if the user has no such key."""
    try:
        dynamodb().delete_item(
            TableName=get_settings().items_table,
            Key=_key(user_id, key),
            ConditionExpression="attribute_exists(user_id)",
        )
    except ClientError as error:
        if _condition_failed(error):
            return _was_retried(error)  # our first attempt deleted it; its answer was lost
        raise
    return True
