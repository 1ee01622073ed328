"""Business logic of the purge function: the items of deleted accounts are removed in
the background, in batches, for any number of keys.

Deleting an account removes its profile (`USER#<user_id>`) from the users table; the
table's stream delivers that REMOVE (template.yaml filters the stream) to this function.
It deletes the user's items page by page until none are left or its time runs short;
then it reports the record as failed, so Lambda delivers it again and the purge goes on
from where it stopped (each page is read anew: what was deleted is gone). A failure is
retried the same way, a bounded number of times (then the batch goes to the failure
queue, to be redriven: deploy/redrive_purges.py).

The account, its sessions and its tokens are gone, and a new account gets a new user id,
yet API Gateway may still hold an Allow for one of its tokens for AuthorizerCacheTtl
seconds, and a request let in then can still store a key. So the purge first writes a
recheck marker (`PURGE#<user_id>`) that expires once every such request is over; its
TTL removal reaches this function too and purges the user a second time.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.accounts import account_records
from lockbox.accounts.user_keys import profile_owner, recheck_owner
from lockbox.core.observability import count_internal_error, logger, metrics
from lockbox.core.settings import get_settings
from lockbox.items import item_records

# Stop taking pages while this much of the invocation is left (a page takes well under it).
_TIME_MARGIN_MILLISECONDS = 15_000


class Purge(NamedTuple):
    user_id: str
    sequence_number: str
    second_pass: bool  # a recheck marker's removal, not the profile's


def purges(event: dict[str, Any]) -> list[Purge]:
    """The purge each removed profile or recheck marker among the stream records asks for."""
    found = []
    for record in event.get("Records", []):
        if record.get("eventName") != "REMOVE":
            continue
        stream = record.get("dynamodb", {})
        pk = stream.get("Keys", {}).get("pk", {}).get("S", "")
        sequence_number = str(stream.get("SequenceNumber", ""))
        if (user_id := profile_owner(pk)) is not None:
            found.append(Purge(user_id, sequence_number, second_pass=False))
        elif (user_id := recheck_owner(pk)) is not None:
            found.append(Purge(user_id, sequence_number, second_pass=True))
    return found


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
    for purge in purges(event):
        try:
            if not purge.second_pass:
                expires_at = int(time.time()) + get_settings().erasure_recheck_seconds
                account_records.put_recheck_marker(purge.user_id, expires_at)
            finished = purge_items(purge.user_id, context)
        except Exception:
            logger.exception("Purge failed; it is retried", extra={"user_id": purge.user_id})
            count_internal_error(context)
            finished = False
        if not finished:
            return {"batchItemFailures": [{"itemIdentifier": purge.sequence_number}]}
    return {"batchItemFailures": []}
