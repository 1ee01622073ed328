"""DynamoDB stream event sources, as Lambda runs them: poll the table's stream, filter the
records by the event source's FilterCriteria, and invoke the function with batches of the
same shape Lambda sends ({"Records": [...]}).

A batch the function answers with `batchItemFailures` (ReportBatchItemFailures) is
delivered again from the first failed record on; a batch whose invocation fails is
delivered again whole, after a pause, as Lambda retries a stream batch until it succeeds.
DynamoDB Local keeps streams the way DynamoDB does, so `make run` runs the same path as AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lockbox_local.intrinsics import REGION
from lockbox_local.lambdas import FUNCTION_TYPE
from lockbox_local.template import resources_of_type
from lockbox_local.workers import Completed, Invoker

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.5
_RETRY_PAUSE_SECONDS = 1.0
_DEFAULT_BATCH_SIZE = 100


@dataclass(frozen=True, slots=True)
class StreamSource:
    function_id: str
    table_id: str  # logical id of the table whose stream feeds the function
    view_type: str
    batch_size: int
    patterns: tuple[Mapping[str, Any], ...]  # FilterCriteria patterns; a record matching any passes


def read_stream_sources(template: Mapping[str, Any]) -> list[StreamSource]:
    """Every DynamoDB event source of the template's functions."""
    tables = resources_of_type(dict(template), "AWS::DynamoDB::Table")
    sources = []
    for function_id, function in resources_of_type(dict(template), FUNCTION_TYPE).items():
        for event in (function.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            properties = event.get("Properties", {})
            target = properties.get("Stream", {}).get("Fn::GetAtt")
            table_id = str(target[0] if isinstance(target, list) else str(target).split(".")[0])
            stream = tables[table_id]["Properties"].get("StreamSpecification", {})
            filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
            sources.append(
                StreamSource(
                    function_id=function_id,
                    table_id=table_id,
                    view_type=str(stream.get("StreamViewType", "KEYS_ONLY")),
                    batch_size=int(properties.get("BatchSize", _DEFAULT_BATCH_SIZE)),
                    patterns=tuple(json.loads(str(f["Pattern"])) for f in filters),
                )
            )
    return sources


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering (the subset the template uses): objects match key by key, a
    list lists the accepted values, `{"prefix": ...}` matches the start of a string."""
    if isinstance(pattern, Mapping):
        if not isinstance(value, Mapping):
            return False
        return all(name in value and matches(sub, value[name]) for name, sub in pattern.items())
    if isinstance(pattern, list):
        return any(_accepts(option, value) for option in pattern)
    return bool(pattern == value)


def _accepts(option: Any, value: Any) -> bool:
    if isinstance(option, Mapping) and "prefix" in option:
        return isinstance(value, str) and value.startswith(str(option["prefix"]))
    return bool(option == value)


class StreamPoller:
    """One thread per event source, polling every shard of its table's stream."""

    def __init__(
        self,
        sources: list[StreamSource],
        table_names: Mapping[str, str],
        invoker: Invoker,
        client_factory: Callable[[str], Any],
    ) -> None:
        self._sources = sources
        self._table_names = table_names
        self._invoker = invoker
        self._client_factory = client_factory  # "dynamodb" or "dynamodbstreams" -> client
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> StreamPoller:
        dynamodb = self._client_factory("dynamodb")
        for source in self._sources:
            stream_arn = _enable_stream(dynamodb, self._table_names[source.table_id], source)
            thread = threading.Thread(
                target=self._poll,
                args=(source, stream_arn),
                name=f"stream-{source.function_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
            logger.info("%s: polling the stream of %s", source.function_id, source.table_id)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _poll(self, source: StreamSource, stream_arn: str) -> None:
        streams = self._client_factory("dynamodbstreams")
        iterators: dict[str, str | None] = {}
        while not self._stopping.is_set():
            try:
                description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
                for shard in description.get("Shards", []):
                    shard_id = shard["ShardId"]
                    if shard_id not in iterators:
                        iterators[shard_id] = streams.get_shard_iterator(
                            StreamArn=stream_arn,
                            ShardId=shard_id,
                            ShardIteratorType="TRIM_HORIZON",
                        )["ShardIterator"]
                for shard_id, iterator in list(iterators.items()):
                    if iterator is None:
                        continue  # a closed shard, read to its end
                    answer = streams.get_records(ShardIterator=iterator)
                    self._deliver(source, stream_arn, answer.get("Records", []))
                    iterators[shard_id] = answer.get("NextShardIterator")
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("%s: polling the stream failed; retrying", source.function_id)
            self._stopping.wait(_POLL_SECONDS)

    def _deliver(self, source: StreamSource, stream_arn: str, records: list[Any]) -> None:
        passing = [
            {**_plain(record), "eventSourceARN": stream_arn, "awsRegion": REGION}
            for record in records
            if not source.patterns or any(matches(p, _plain(record)) for p in source.patterns)
        ]
        for start in range(0, len(passing), source.batch_size):
            pending = passing[start : start + source.batch_size]
            while pending and not self._stopping.is_set():
                pending = self._invoke(source, pending)

    def _invoke(self, source: StreamSource, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records still to deliver after one invocation with this batch."""
        outcome = self._invoker.invoke(source.function_id, {"Records": batch}, str(uuid.uuid4()))
        if not isinstance(outcome, Completed):
            logger.warning("%s: the batch failed (%s); retrying", source.function_id, outcome)
            self._stopping.wait(_RETRY_PAUSE_SECONDS)
            return batch
        failures = (outcome.payload or {}).get("batchItemFailures") or []
        if not failures:
            return []
        failed = {str(f.get("itemIdentifier")) for f in failures}
        first = next(
            (i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), 0
        )
        return batch[first:]


def _enable_stream(client: Any, table_name: str, source: StreamSource) -> str:
    """The table's stream ARN, turning the stream on first (a table created by an older
    template in a kept data directory has none)."""
    table = client.describe_table(TableName=table_name)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        client.update_table(
            TableName=table_name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": source.view_type},
        )
        table = client.describe_table(TableName=table_name)["Table"]
    return str(table["LatestStreamArn"])


def _plain(record: Any) -> dict[str, Any]:
    """A record as JSON (the streams API gives datetimes), the shape Lambda delivers."""
    plain: dict[str, Any] = json.loads(json.dumps(record, default=_timestamp))
    return plain


def _timestamp(value: Any) -> Any:
    timestamp = getattr(value, "timestamp", None)
    if timestamp is None:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return int(timestamp())
