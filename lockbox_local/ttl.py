"""DynamoDB's Time to Live, which DynamoDB Local does not run: a sweeper that deletes the
expired items of the tables whose stream feeds a function, and names those deletes as
DynamoDB's own, so their stream records carry the service's userIdentity as in AWS.

In AWS the TTL process deletes an expired item some time after it expires (typically
within days); here within a few seconds. Its REMOVE records carry
`userIdentity: {"type": "Service", "principalId": "dynamodb.amazonaws.com"}`, which a
stream filter may require (template.yaml: the purge's second pass). DynamoDB Local writes
its own stream records without a userIdentity; the stream poller adds it to the records
of the deletes this sweeper made (ServiceRemovals).
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lockbox_local.template import resources_of_type

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 2.0
SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@dataclass(frozen=True, slots=True)
class TtlTable:
    table_id: str
    attribute: str  # TimeToLiveSpecification.AttributeName (Unix seconds)


def read_ttl_tables(template: Mapping[str, Any], table_ids: set[str]) -> list[TtlTable]:
    """The tables among `table_ids` whose TimeToLiveSpecification is enabled."""
    found = []
    for table_id, table in resources_of_type(dict(template), "AWS::DynamoDB::Table").items():
        spec = table.get("Properties", {}).get("TimeToLiveSpecification") or {}
        if table_id in table_ids and spec.get("Enabled") in (True, "true", "True"):
            found.append(TtlTable(table_id, str(spec["AttributeName"])))
    return found


def key_text(table_name: str, keys: Mapping[str, Any]) -> str:
    """One item's identity: its table and key attributes, as the stream record gives them."""
    return json.dumps([table_name, keys], sort_keys=True)


class ServiceRemovals:
    """The items the sweeper is deleting, and the stream records their deletes made.

    Every function fed by the table's stream reads the same REMOVE record, each on its own
    poller: the first to see it ties the sweeper's delete to the record's sequence number,
    so the others see it as the service's too (the purge and the mail sender share one)."""

    KEEP_SECONDS = 24 * 3600  # a stream's retention: no poller reads a record after it

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._records: dict[tuple[str, str], float] = {}  # (item, sequence) -> first seen
        self._clock = clock

    def add(self, identity: str) -> None:
        with self._lock:
            self._pending.add(identity)

    def discard(self, identity: str) -> None:
        with self._lock:
            self._pending.discard(identity)

    def claim(self, identity: str, sequence_number: str) -> bool:
        """True for the REMOVE record of a delete the sweeper made, for every reader of it."""
        with self._lock:
            now, record = self._clock(), (identity, sequence_number)
            if record in self._records:
                return True
            if identity not in self._pending:
                return False
            self._pending.remove(identity)
            self._records = {
                seen: at for seen, at in self._records.items() if now - at < self.KEEP_SECONDS
            }
            self._records[record] = now
            return True


class TtlSweeper:
    """One thread deleting, every SWEEP_SECONDS, each expired item of the TTL tables."""

    def __init__(
        self,
        tables: list[TtlTable],
        table_names: Mapping[str, str],
        removals: ServiceRemovals,
        client_factory: Callable[[str], Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tables = tables
        self._table_names = table_names
        self._removals = removals
        self._client_factory = client_factory
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TtlSweeper:
        if self._tables:
            self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        client = self._client_factory("dynamodb")
        while not self._stopping.wait(SWEEP_SECONDS):
            for table in self._tables:
                try:
                    self.sweep(client, table)
                except Exception:
                    if self._stopping.is_set():
                        return
                    logger.exception("TTL sweep of %s failed; retrying", table.table_id)

    def sweep(self, client: Any, table: TtlTable) -> int:
        """Delete the table's expired items; how many were deleted."""
        name = self._table_names[table.table_id]
        key_names = [
            k["AttributeName"] for k in client.describe_table(TableName=name)["Table"]["KeySchema"]
        ]
        now = str(int(self._clock()))
        expired = {"#ttl": table.attribute}
        deleted = 0
        pages = client.get_paginator("scan").paginate(
            TableName=name,
            FilterExpression="#ttl <= :now",
            ExpressionAttributeNames=expired,
            ExpressionAttributeValues={":now": {"N": now}},
        )
        for page in pages:
            for item in page.get("Items", []):
                keys = {k: item[k] for k in key_names}
                identity = key_text(name, keys)
                self._removals.add(identity)
                try:
                    # Only if still expired: a write since the scan may have renewed it.
                    client.delete_item(
                        TableName=name,
                        Key=keys,
                        ConditionExpression="#ttl <= :now",
                        ExpressionAttributeNames=expired,
                        ExpressionAttributeValues={":now": {"N": now}},
                    )
                    deleted += 1
                except client.exceptions.ConditionalCheckFailedException:
                    self._removals.discard(identity)
                except Exception:
                    self._removals.discard(identity)
                    raise
        return deleted
