"""The local stack's DynamoDB stream event sources: what it reads from the template, and
Lambda's event filtering as far as the template uses it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lockbox_local.streams import StreamPoller, StreamSource, matches, read_stream_sources
from lockbox_local.template import load_template
from lockbox_local.workers import Completed


def removal(pk: str, sequence: str = "1", event_name: str = "REMOVE") -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": pk}}, "SequenceNumber": sequence},
    }


def test_the_purge_function_reads_the_users_table_stream_filtered_to_removed_profiles() -> None:
    (source,) = read_stream_sources(load_template())

    assert (source.function_id, source.table_id) == ("PurgeItemsFunction", "UsersTable")
    assert source.view_type == "KEYS_ONLY"
    (pattern,) = source.patterns
    assert matches(pattern, removal("USER#u-1"))
    assert not matches(pattern, removal("SESSION#s-1"))  # a session's TTL removal
    assert not matches(pattern, removal("USERNAME#ghost"))  # a count's TTL removal
    assert not matches(pattern, removal("USER#u-1", event_name="MODIFY"))


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
