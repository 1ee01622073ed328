"""Business logic of the purge function: the items of deleted accounts are removed in
the background, in batches, for any number of keys.

Deleting an account removes its profile (`USER#<user_id>`) from the users table; the
table's stream delivers that REMOVE (template.yaml filters the stream to exactly those
records) to this function. It deletes the user's items page by page until none are
left or its time runs short; then it reports the record as failed, so Lambda delivers it
again and the purge goes on from where it stopped (each page is read anew: what was
deleted is gone). A failure is retried the same way. Nothing else can write those items:
the account, its sessions and its tokens are gone, and a new account gets a new user id.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.accounts.user_keys import profile_owner
from lockbox.core.observability import logger, metrics
from lockbox.items import item_records

# Stop taking pages while this much of the invocation is left (a page takes well under it).
_TIME_MARGIN_MILLISECONDS = 15_000


def deleted_users(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(user id, sequence number) of each removed profile among the stream records."""
    users = []
    for record in event.get("Records", []):
        if record.get("eventName") != "REMOVE":
            continue
        stream = record.get("dynamodb", {})
        pk = stream.get("Keys", {}).get("pk", {}).get("S", "")
        user_id = profile_owner(pk)
        if user_id is not None:
            users.append((user_id, str(stream.get("SequenceNumber", ""))))
    return users


def purge_items(user_id: str, context: LambdaContext) -> bool:
    """Delete the user's items until none are left (True) or time runs short (False)."""
    deleted = 0
    while context.get_remaining_time_in_millis() > _TIME_MARGIN_MILLISECONDS:
        keys = item_records.purge_key_page(user_id)
        if not keys:
            logger.info("Items purged", extra={"user_id": user_id, "deleted": deleted})
            metrics.add_metric(name="PurgedItems", unit=MetricUnit.Count, value=deleted)
            return True
        item_records.purge_keys(keys)
        deleted += len(keys)
    logger.info("Purge continues later", extra={"user_id": user_id, "deleted": deleted})
    metrics.add_metric(name="PurgedItems", unit=MetricUnit.Count, value=deleted)
    return False


def purge_deleted_users(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The stream batch's answer: the first record not finished, and every one after it,
    are delivered again (ReportBatchItemFailures)."""
    for user_id, sequence_number in deleted_users(event):
        try:
            finished = purge_items(user_id, context)
        except Exception:
            logger.exception("Purge failed; it is retried", extra={"user_id": user_id})
            finished = False
        if not finished:
            return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    return {"batchItemFailures": []}
