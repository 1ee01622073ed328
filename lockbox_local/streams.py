"""DynamoDB stream event sources, as Lambda runs them: poll the table's stream, filter the
records by the event source's FilterCriteria, and invoke the function with batches of the
same shape Lambda sends ({"Records": [...]}).

A batch the function answers with `batchItemFailures` (ReportBatchItemFailures) is
delivered again from the first failed record on; a batch whose invocation fails is
delivered again whole, after a pause. As in Lambda, MaximumRetryAttempts and
MaximumRecordAgeInSeconds bound that: a batch past either is given up, and with a
DestinationConfig.OnFailure its description (shard and sequence numbers, the message
Lambda sends to the queue) is appended to `<data dir>/<destination id>.jsonl`, the local
stand-in of the queue. BisectBatchOnFunctionError is not emulated (the purge reports its
records rather than failing its invocation). DynamoDB Local keeps streams the way DynamoDB
does, so `make run` runs the same path as AWS; the REMOVE records of the TTL sweeper's
deletes get DynamoDB's service userIdentity (lockbox_local.ttl).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lockbox_local.intrinsics import REGION
from lockbox_local.lambdas import FUNCTION_TYPE
from lockbox_local.template import resources_of_type
from lockbox_local.ttl import SERVICE_IDENTITY, ServiceRemovals, key_text
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
    max_retries: int = -1  # MaximumRetryAttempts; -1: until the record expires
    max_record_age: int = -1  # MaximumRecordAgeInSeconds; -1: no limit
    on_failure: str | None = None  # logical id of DestinationConfig.OnFailure's destination


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
            destination = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            sources.append(
                StreamSource(
                    function_id=function_id,
                    table_id=table_id,
                    view_type=str(stream.get("StreamViewType", "KEYS_ONLY")),
                    batch_size=int(properties.get("BatchSize", _DEFAULT_BATCH_SIZE)),
                    patterns=tuple(json.loads(str(f["Pattern"])) for f in filters),
                    max_retries=int(properties.get("MaximumRetryAttempts", -1)),
                    max_record_age=int(properties.get("MaximumRecordAgeInSeconds", -1)),
                    on_failure=_logical_id(destination),
                )
            )
    return sources


def _logical_id(target: Any) -> str | None:
    """The resource a `!GetAtt X.Arn` or `!Ref X` names."""
    if isinstance(target, Mapping):
        if "Fn::GetAtt" in target:
            att = target["Fn::GetAtt"]
            return str(att[0] if isinstance(att, list) else str(att).split(".")[0])
        if "Ref" in target:
            return str(target["Ref"])
    return None


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
        *,
        removals: ServiceRemovals | None = None,
        failures_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sources = sources
        self._table_names = table_names
        self._invoker = invoker
        self._client_factory = client_factory  # "dynamodb" or "dynamodbstreams" -> client
        self._removals = removals or ServiceRemovals()
        self._failures_dir = failures_dir  # where the OnFailure stand-ins are written
        self._clock = clock
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
                    self._deliver(source, stream_arn, answer.get("Records", []), shard_id)
                    iterators[shard_id] = answer.get("NextShardIterator")
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("%s: polling the stream failed; retrying", source.function_id)
            self._stopping.wait(_POLL_SECONDS)

    def _deliver(
        self, source: StreamSource, stream_arn: str, records: list[Any], shard_id: str = ""
    ) -> None:
        table_name = self._table_names.get(source.table_id, source.table_id)
        plain = [self._with_identity(table_name, _plain(record)) for record in records]
        passing = [
            {**record, "eventSourceARN": stream_arn, "awsRegion": REGION}
            for record in plain
            if not source.patterns or any(matches(p, record) for p in source.patterns)
        ]
        for start in range(0, len(passing), source.batch_size):
            pending = passing[start : start + source.batch_size]
            retries = 0
            while pending and not self._stopping.is_set():
                condition = self._given_up(source, pending, retries)
                if condition is not None:
                    self._discard(source, stream_arn, shard_id, pending, condition, retries)
                    break
                first = pending[0]["dynamodb"]["SequenceNumber"]
                pending = self._invoke(source, pending)
                same_record = bool(pending) and pending[0]["dynamodb"]["SequenceNumber"] == first
                retries = retries + 1 if same_record else 0  # a retry of the same record

    def _with_identity(self, table_name: str, record: dict[str, Any]) -> dict[str, Any]:
        """A REMOVE of the TTL sweeper's, with the userIdentity DynamoDB's TTL gives it."""
        change = record.get("dynamodb", {})
        keys, sequence_number = change.get("Keys"), str(change.get("SequenceNumber"))
        removed = record.get("eventName") == "REMOVE" and keys is not None
        if removed and self._removals.claim(key_text(table_name, keys), sequence_number):
            return {**record, "userIdentity": dict(SERVICE_IDENTITY)}
        return record

    def _given_up(
        self, source: StreamSource, batch: list[dict[str, Any]], retries: int
    ) -> str | None:
        """Lambda's condition for giving the batch up, or None to invoke with it."""
        if 0 <= source.max_retries < retries:
            return "RetryAttemptsExhausted"
        created = batch[0].get("dynamodb", {}).get("ApproximateCreationDateTime")
        aged = source.max_record_age >= 0 and isinstance(created, int | float)
        if aged and self._clock() - created > source.max_record_age:
            return "RecordAgeExceeded"
        return None

    def _discard(
        self,
        source: StreamSource,
        stream_arn: str,
        shard_id: str,
        batch: list[dict[str, Any]],
        condition: str,
        retries: int,
    ) -> None:
        """Give the batch up: its description to the OnFailure stand-in, as Lambda sends it."""
        arrivals = [r.get("dynamodb", {}).get("ApproximateCreationDateTime") for r in batch]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{source.function_id}",
                "condition": condition,
                "approximateInvokeCount": retries + 1,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
                "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
                "batchSize": len(batch),
                "streamArn": stream_arn,
            },
        }
        if source.on_failure is None or self._failures_dir is None:
            logger.error(
                "%s: gave up a batch (%s), no destination: %s",
                source.function_id,
                condition,
                message,
            )
            return
        self._failures_dir.mkdir(parents=True, exist_ok=True)
        path = self._failures_dir / f"{source.on_failure}.jsonl"
        with path.open("a") as queue:
            queue.write(json.dumps(message) + "\n")
        logger.warning(
            "%s: gave up a batch (%s); described in %s", source.function_id, condition, path
        )

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


def _iso(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _plain(record: Any) -> dict[str, Any]:
    """A record as JSON (the streams API gives datetimes), the shape Lambda delivers."""
    plain: dict[str, Any] = json.loads(json.dumps(record, default=_timestamp))
    return plain


def _timestamp(value: Any) -> Any:
    timestamp = getattr(value, "timestamp", None)
    if timestamp is None:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return int(timestamp())
