"""The local stack's DynamoDB stream event sources: what it reads from the template, and
Lambda's event filtering as far as the template uses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lockbox_local.streams import StreamPoller, StreamSource, matches, read_stream_sources
from lockbox_local.template import load_template
from lockbox_local.ttl import SERVICE_IDENTITY, ServiceRemovals, TtlSweeper, TtlTable, key_text
from lockbox_local.workers import Completed


def removal(pk: str, sequence: str = "1", event_name: str = "REMOVE") -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": pk}}, "SequenceNumber": sequence},
    }


def passes(source: StreamSource, record: dict[str, Any]) -> bool:
    return any(matches(pattern, record) for pattern in source.patterns)


def by_ttl(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "userIdentity": dict(SERVICE_IDENTITY)}


def test_the_purge_function_reads_the_users_table_stream_filtered_to_removed_profiles() -> None:
    """Removed profiles, and recheck markers removed by DynamoDB's TTL, pass the filter;
    the retries and record age are bounded, with the failure queue as destination."""
    sources = {source.function_id: source for source in read_stream_sources(load_template())}
    source = sources["PurgeItemsFunction"]

    assert source.table_id == "UsersTable"
    assert source.view_type == "KEYS_ONLY"
    assert passes(source, removal("USER#u-1"))
    assert passes(source, by_ttl(removal("PURGE#u-1")))
    assert not passes(source, removal("PURGE#u-1"))  # a caller's delete, not the TTL's
    assert not passes(source, by_ttl(removal("SESSION#s-1")))  # a session's TTL removal
    assert not passes(source, by_ttl(removal("USERNAME#ghost")))  # a count's TTL removal
    assert not passes(source, removal("USER#u-1", event_name="MODIFY"))
    assert (source.max_retries, source.max_record_age) == (20, 21600)
    assert source.on_failure == "PurgeFailuresQueue"


def test_the_mail_sender_reads_written_mail_requests_only() -> None:
    """Written (INSERT, MODIFY) MAIL# items pass; their TTL removal and other items do not."""
    sources = {source.function_id: source for source in read_stream_sources(load_template())}
    source = sources["SendMailFunction"]

    assert source.table_id == "UsersTable"
    assert passes(source, removal("MAIL#verify#u-1", event_name="INSERT"))
    assert passes(source, removal("MAIL#reset#a@example.com", event_name="MODIFY"))
    assert not passes(source, by_ttl(removal("MAIL#verify#u-1")))
    assert not passes(source, removal("USER#u-1", event_name="MODIFY"))
    assert (source.max_retries, source.max_record_age) == (10, 3600)
    assert source.on_failure == "SendMailFailuresQueue"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["x"]}, {"a": "z"}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": {"b": [{"prefix": "p"}]}}, {"a": {"b": "pq"}}, True),
        ({"a": {"b": [{"prefix": "p"}]}}, {"a": {"b": 7}}, False),
        ({"a": {"b": ["x"]}}, {"a": "not an object"}, False),
    ],
)
def test_event_filter_patterns(pattern: Any, value: Any, expected: bool) -> None:
    assert matches(pattern, value) is expected


class RecordingInvoker:
    """Answers each batch with a failure at the given sequence number, once."""

    def __init__(self, fail_at: str | None) -> None:
        self.fail_at = fail_at
        self.batches: list[list[str]] = []

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Completed:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(sequences)
        if self.fail_at in sequences:
            failed, self.fail_at = self.fail_at, None
            return Completed({"batchItemFailures": [{"itemIdentifier": failed}]})
        return Completed({"batchItemFailures": []})


def test_a_reported_failure_is_delivered_again_from_that_record_on() -> None:
    source = StreamSource("F", "T", "KEYS_ONLY", 10, (json.loads('{"eventName": ["REMOVE"]}'),))
    invoker = RecordingInvoker(fail_at="2")
    poller = StreamPoller([source], {"T": "T"}, invoker, lambda _: None)
    records = [removal(f"USER#{n}", str(n)) for n in range(1, 4)]
    records.append(removal("USER#4", "4", event_name="INSERT"))  # filtered out

    poller._deliver(source, "arn:stream", records)

    assert invoker.batches == [["1", "2", "3"], ["2", "3"]]


class FailingInvoker:
    """Reports the first record of every batch as failed."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Completed:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(sequences)
        return Completed({"batchItemFailures": [{"itemIdentifier": sequences[0]}]})


def bounded(**changes: Any) -> StreamSource:
    return StreamSource(
        "PurgeItemsFunction",
        "T",
        "KEYS_ONLY",
        10,
        (),
        **{"max_retries": 2, "on_failure": "PurgeFailuresQueue", **changes},
    )


def test_a_batch_failing_past_its_retries_goes_to_the_failure_queue(tmp_path: Path) -> None:
    """Given MaximumRetryAttempts 2 and a record that always fails, it is tried 3 times,
    then the batch's description (shard, sequence numbers) is queued, as Lambda sends it."""
    invoker = FailingInvoker()
    poller = StreamPoller([bounded()], {"T": "T"}, invoker, lambda _: None, failures_dir=tmp_path)

    poller._deliver(
        bounded(), "arn:stream", [removal("USER#1", "7"), removal("USER#2", "8")], "shard-1"
    )

    (line,) = (tmp_path / "PurgeFailuresQueue.jsonl").read_text().splitlines()
    message = json.loads(line)
    assert invoker.batches == [["7", "8"]] * 3
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["DDBStreamBatchInfo"] | {"approximateArrivalOfFirstRecord": None} == {
        "shardId": "shard-1",
        "startSequenceNumber": "7",
        "endSequenceNumber": "8",
        "approximateArrivalOfFirstRecord": None,
        "approximateArrivalOfLastRecord": None,
        "batchSize": 2,
        "streamArn": "arn:stream",
    }


def test_a_record_older_than_its_age_limit_is_not_delivered(tmp_path: Path) -> None:
    """Given MaximumRecordAgeInSeconds 60 and a record 61 s old, it goes to the queue."""
    invoker = RecordingInvoker(fail_at=None)
    source = bounded(max_record_age=60)
    poller = StreamPoller(
        [source], {"T": "T"}, invoker, lambda _: None, failures_dir=tmp_path, clock=lambda: 1061.0
    )
    old = removal("USER#1", "7")
    old["dynamodb"]["ApproximateCreationDateTime"] = 1000

    poller._deliver(source, "arn:stream", [old], "shard-1")

    (line,) = (tmp_path / "PurgeFailuresQueue.jsonl").read_text().splitlines()
    assert json.loads(line)["requestContext"]["condition"] == "RecordAgeExceeded"
    assert invoker.batches == []


def test_the_ttl_sweeper_deletes_expired_items_as_the_dynamodb_service() -> None:
    """Given an expired item and a live one, the sweeper deletes the expired one, and its
    REMOVE record reaches the function with DynamoDB's service userIdentity."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="T",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for pk, expires_at in (("PURGE#gone", 1000), ("PURGE#later", 5000)):
            client.put_item(
                TableName="T", Item={"pk": {"S": pk}, "expires_at": {"N": str(expires_at)}}
            )
        removals = ServiceRemovals()
        sweeper = TtlSweeper(
            [TtlTable("T", "expires_at")],
            {"T": "T"},
            removals,
            lambda _: client,
            clock=lambda: 2000.0,
        )

        assert sweeper.sweep(client, TtlTable("T", "expires_at")) == 1
        left = [item["pk"]["S"] for item in client.scan(TableName="T")["Items"]]

    invoker = RecordingInvoker(fail_at=None)
    source = StreamSource(
        "F", "T", "KEYS_ONLY", 10, (json.loads('{"userIdentity": {"type": ["Service"]}}'),)
    )
    poller = StreamPoller([source], {"T": "T"}, invoker, lambda _: None, removals=removals)
    poller._deliver(source, "arn:stream", [removal("PURGE#gone", "1"), removal("PURGE#gone", "2")])

    assert left == ["PURGE#later"]
    assert invoker.batches == [["1"]]  # the sweeper's delete; a second REMOVE is someone else's


def test_every_function_on_the_stream_sees_the_sweepers_removal_as_the_services() -> None:
    """Given two functions fed by one stream (the purge and the mail sender) and a TTL
    removal, whichever poller reads the record first, both see DynamoDB's userIdentity."""
    removals = ServiceRemovals()
    removals.add(key_text("T", {"pk": {"S": "PURGE#gone"}}))
    by_service = (json.loads('{"userIdentity": {"type": ["Service"]}}'),)
    first, second = RecordingInvoker(fail_at=None), RecordingInvoker(fail_at=None)
    for invoker in (first, second):
        source = StreamSource("F", "T", "KEYS_ONLY", 10, by_service)
        poller = StreamPoller([source], {"T": "T"}, invoker, lambda _: None, removals=removals)
        poller._deliver(source, "arn:stream", [removal("PURGE#gone", "5")])

    assert (first.batches, second.batches) == ([["5"]], [["5"]])
