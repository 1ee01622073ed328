"""deploy/redrive_purges.py against moto: a purge given up by the stream, described on the
failure queue as Lambda describes it, is read back from the stream and purged again."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from deploy.redrive_purges import orphan_users, purge_orphans, redrive
from tests.handlers.calls import handler

OWNER, KEPT = "gone-user", "kept-user"


def store_keys(client: Any, owner: str, count: int) -> None:
    for n in range(count):
        client.put_item(
            TableName="ItemsTable", Item={"user_id": {"S": owner}, "key": {"S": f"k{n:03d}"}}
        )


def keys_of(client: Any, owner: str) -> int:
    answer = client.query(
        TableName="ItemsTable",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": owner}},
        Select="COUNT",
    )
    return int(answer["Count"])


@pytest.fixture
def given_up(aws_tables: Any) -> tuple[Any, Any, str]:
    """A deleted account whose purge the stream gave up: its items still there, and the
    queue holding Lambda's description of the batch (shard, sequence numbers)."""
    aws_tables.update_table(
        TableName="UsersTable",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    for owner in (OWNER, KEPT):
        aws_tables.put_item(
            TableName="UsersTable",
            Item={"pk": {"S": f"USER#{owner}"}, "user_id": {"S": owner}},
        )
    store_keys(aws_tables, OWNER, 30)
    store_keys(aws_tables, KEPT, 2)
    aws_tables.delete_item(TableName="UsersTable", Key={"pk": {"S": f"USER#{OWNER}"}})

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    stream_arn = aws_tables.describe_table(TableName="UsersTable")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    removal = next(r for r in records if r["eventName"] == "REMOVE")
    sequence = removal["dynamodb"]["SequenceNumber"]

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="PurgeFailuresQueue")["QueueUrl"]
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(
            {
                "requestContext": {"condition": "RetryAttemptsExhausted"},
                "DDBStreamBatchInfo": {
                    "shardId": shard["ShardId"],
                    "startSequenceNumber": sequence,
                    "endSequenceNumber": sequence,
                    "batchSize": 1,
                    "streamArn": stream_arn,
                },
            }
        ),
    )
    return sqs, streams, queue_url


def purge_in_process(lambda_context: Any, events: list[dict[str, Any]]) -> Any:
    """The purge function's handler, invoked here instead of through Lambda."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        answer: dict[str, Any] = handler("purge_items")(event, lambda_context)
        return answer

    return invoke


def queued(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_given_up_purge_is_redriven_from_the_queue(
    aws_tables: Any, lambda_context: Any, given_up: tuple[Any, Any, str]
) -> None:
    """Given the queued batch, the redrive reads its REMOVE back from the stream, invokes
    the purge with it, and deletes the message once the purge reports no failure."""
    sqs, streams, queue_url = given_up
    events: list[dict[str, Any]] = []

    report = redrive(sqs, streams, queue_url, purge_in_process(lambda_context, events), apply=True)

    assert report.redriven == [OWNER]
    assert (report.expired, report.failed) == ([], [])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in events[0]["Records"]] == [f"USER#{OWNER}"]
    assert keys_of(aws_tables, OWNER) == 0
    assert keys_of(aws_tables, KEPT) == 2
    assert queued(sqs, queue_url) == 0


def test_the_report_only_run_changes_nothing(
    aws_tables: Any, lambda_context: Any, given_up: tuple[Any, Any, str]
) -> None:
    """Without --apply, the users are named, nothing is purged, the message stays."""
    sqs, streams, queue_url = given_up
    events: list[dict[str, Any]] = []

    report = redrive(sqs, streams, queue_url, purge_in_process(lambda_context, events), apply=False)

    assert report.redriven == [OWNER]
    assert events == []
    assert keys_of(aws_tables, OWNER) == 30
    assert queued(sqs, queue_url) == 1


def test_a_purge_that_still_fails_keeps_its_message(
    aws_tables: Any, given_up: tuple[Any, Any, str]
) -> None:
    """Given a purge that keeps reporting its record, the user is reported and the message
    stays on the queue for the next try."""
    sqs, streams, queue_url = given_up

    def failing(event: dict[str, Any]) -> dict[str, Any]:
        first = event["Records"][0]["dynamodb"]["SequenceNumber"]
        return {"batchItemFailures": [{"itemIdentifier": first}]}

    report = redrive(sqs, streams, queue_url, failing, apply=True)

    assert report.failed == [OWNER]
    assert keys_of(aws_tables, OWNER) == 30
    assert queued(sqs, queue_url) == 1


def test_orphans_are_found_and_purged_without_the_stream(
    aws_tables: Any, lambda_context: Any, given_up: tuple[Any, Any, str]
) -> None:
    """When the stream has trimmed the records, the users with items and no profile are
    found by a scan and purged; a user with a profile is left alone."""
    users = orphan_users(aws_tables, "ItemsTable", "UsersTable")
    events: list[dict[str, Any]] = []

    report = purge_orphans(users, purge_in_process(lambda_context, events))

    assert users == [OWNER]
    assert report.redriven == [OWNER]
    assert keys_of(aws_tables, OWNER) == 0
    assert keys_of(aws_tables, KEPT) == 2
