"""Purge again the deleted accounts whose stream batch the purge gave up.

When the purge (PurgeItemsFunction) fails a users-table stream batch past its retries
(MaximumRetryAttempts) or its age limit (MaximumRecordAgeInSeconds), Lambda sends a
description of the batch to the PurgeFailuresQueue: its stream, shard and first and last
sequence numbers, not the records. This tool reads those messages, reads the records back
from the stream (GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords up to the last
sequence number), and invokes the purge with them, as the stream would, until it reports
no failure; then it deletes the message. A stream keeps records 24 hours: for an older
message (its records trimmed) the tool says so and keeps the message; `--orphans` then
finds every user with items but no profile (a scan of the items table) and purges those.

    python -m deploy.redrive_purges --queue-url <PurgeFailuresQueueUrl> \\
        --function <PurgeItemsFunction name>                   # report only
    python -m deploy.redrive_purges ... --apply               # purge, delete the messages
    python -m deploy.redrive_purges ... --orphans --items-table <ItemsTable> \\
        --users-table <UsersTable> --apply                    # when the records are gone

The purge is idempotent (each pass reads the user's keys anew), so a message redriven
twice, or a user purged twice, does no harm. Fix what made the purge fail first (its logs
and its InternalErrors metric name the cause), or the redrive fails the same way.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lockbox.accounts.user_keys import user_pk
from lockbox.items.purge import purges

Invoke = Callable[[dict[str, Any]], dict[str, Any]]  # the purge: a stream event in, its answer out

_MAX_PURGE_ROUNDS = 50  # invocations per batch: each purges for up to ~285 s
_MAX_EMPTY_READS = 20  # GetRecords answers with nothing before the shard is taken as read
_TRIMMED = {"TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException"}


@dataclass
class Report:
    redriven: list[str] = field(default_factory=list)  # user ids purged again
    expired: list[dict[str, Any]] = field(default_factory=list)  # batches the stream trimmed
    failed: list[str] = field(default_factory=list)  # user ids the purge still reported


def queued_batches(sqs: Any, queue_url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(receipt handle, DDBStreamBatchInfo) of each message, until the queue answers none."""
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=900
        )
        messages = answer.get("Messages", [])
        if not messages:
            return
        for message in messages:
            yield message["ReceiptHandle"], json.loads(message["Body"])["DDBStreamBatchInfo"]


def batch_records(streams: Any, batch: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The batch's records read back from the stream; None once the stream has trimmed them."""
    last = int(batch["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch["streamArn"],
            ShardId=batch["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        empty_reads = 0
        while iterator and empty_reads < _MAX_EMPTY_READS:
            answer = streams.get_records(ShardIterator=iterator)
            page = answer.get("Records", [])
            empty_reads = 0 if page else empty_reads + 1
            for record in page:
                if int(record["dynamodb"]["SequenceNumber"]) > last:
                    return records
                records.append(record)
            if records and int(records[-1]["dynamodb"]["SequenceNumber"]) == last:
                return records
            iterator = answer.get("NextShardIterator")
        return records
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _TRIMMED:
            return None
        raise


def stream_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """The records as Lambda hands them to the purge (datetimes as epoch seconds)."""
    event_records = []
    for record in records:
        plain = json.loads(json.dumps(record, default=_epoch))
        event_records.append({**plain, "eventSourceARN": stream_arn})
    return {"Records": event_records}


def _epoch(value: Any) -> Any:
    timestamp = getattr(value, "timestamp", None)
    if timestamp is None:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return int(timestamp())


def purge_until_done(invoke: Invoke, event: dict[str, Any]) -> bool:
    """Invoke the purge with the event, again from each reported record, until it reports
    none (True) or the rounds run out (False)."""
    pending = list(event["Records"])
    for _ in range(_MAX_PURGE_ROUNDS):
        if not pending:
            return True
        answer = invoke({"Records": pending})
        failures = {str(f["itemIdentifier"]) for f in answer.get("batchItemFailures") or []}
        if not failures:
            return True
        first = next(
            (i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failures), 0
        )
        pending = pending[first:]
    return False


def redrive(sqs: Any, streams: Any, queue_url: str, invoke: Invoke, *, apply: bool) -> Report:
    """Purge again the users of every queued batch (with apply), deleting each message done."""
    report = Report()
    for receipt, batch in queued_batches(sqs, queue_url):
        records = batch_records(streams, batch)
        if records is None:
            report.expired.append(batch)
            continue
        event = stream_event(records, batch["streamArn"])
        users = [purge.user_id for purge in purges(event)]
        if not apply:
            report.redriven.extend(users)
            continue
        if purge_until_done(invoke, event):
            report.redriven.extend(users)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
        else:
            report.failed.extend(users)
    return report


def orphan_users(dynamodb: Any, items_table: str, users_table: str) -> list[str]:
    """Users with items but no profile: deleted accounts whose purge did not finish."""
    owners: set[str] = set()
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=items_table, ProjectionExpression="user_id"
    ):
        owners.update(item["user_id"]["S"] for item in page.get("Items", []))
    return sorted(
        owner
        for owner in owners
        if "Item"
        not in dynamodb.get_item(
            TableName=users_table, Key={"pk": {"S": user_pk(owner)}}, ConsistentRead=True
        )
    )


def removed_profile_event(user_id: str, sequence_number: int) -> dict[str, Any]:
    """A stream record of the user's removed profile, the purge's usual input."""
    return {
        "eventName": "REMOVE",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": {"S": user_pk(user_id)}},
            "SequenceNumber": str(sequence_number),
        },
    }


def purge_orphans(users: list[str], invoke: Invoke) -> Report:
    report = Report()
    for user_id in users:
        event = {"Records": [removed_profile_event(user_id, 1)]}
        (report.redriven if purge_until_done(invoke, event) else report.failed).append(user_id)
    return report


def lambda_invoker(lambda_client: Any, function_name: str) -> Invoke:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        answer = lambda_client.invoke(
            FunctionName=function_name, Payload=json.dumps(event).encode("utf-8")
        )
        payload: dict[str, Any] = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError"):
            raise RuntimeError(f"the purge failed: {payload.get('errorMessage')}")
        return payload

    return invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", help="PurgeFailuresQueueUrl (a stack output)")
    parser.add_argument("--function", required=True, help="the PurgeItemsFunction's name")
    parser.add_argument("--apply", action="store_true", help="purge (default: report only)")
    parser.add_argument("--orphans", action="store_true", help="purge users with no profile")
    parser.add_argument("--items-table", help="ItemsTableName (a stack output), with --orphans")
    parser.add_argument("--users-table", help="UsersTableName (a stack output), with --orphans")
    args = parser.parse_args(argv)

    import boto3

    invoke = lambda_invoker(boto3.client("lambda"), args.function)
    if args.orphans:
        if not (args.items_table and args.users_table):
            parser.error("--orphans needs --items-table and --users-table")
        users = orphan_users(boto3.client("dynamodb"), args.items_table, args.users_table)
        print(f"users with items and no profile: {len(users)}")
        report = purge_orphans(users, invoke) if args.apply else Report(redriven=users)
    else:
        if not args.queue_url:
            parser.error("--queue-url is needed (or --orphans)")
        report = redrive(
            boto3.client("sqs"),
            boto3.client("dynamodbstreams"),
            args.queue_url,
            invoke,
            apply=args.apply,
        )
    verb = "purged again" if args.apply else "to purge again"
    print(f"{verb}: {len(report.redriven)} users")
    for batch in report.expired:
        print(f"records trimmed from the stream (run --orphans): {json.dumps(batch)}")
    for user_id in report.failed:
        print(f"the purge still fails for user {user_id}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
