"""Data access for the items table: partition key user_id, sort key key.

Every call is one conditional request, so a store never overwrites, an update
never creates, and a delete never reports success for something absent.

Versions: every write gives the item a fresh random `etag`; If-Match is a condition on it
in the same request, so of two writers holding one ETag exactly one wins.

Expiry: `expires_at` (Unix seconds) is the table's DynamoDB TTL attribute. DynamoDB deletes
expired items lazily (within days), so every read, write condition and listing here treats
an item whose `expires_at` has passed as absent at once.

Purge: a deleted user's items are read a page of keys at a time and deleted at most 25 per
BatchWriteItem (DynamoDB's limit).

Retries: botocore retries a request whose answer was lost (a timeout, a dropped connection)
or that was throttled, and the retry may then meet the first attempt's own write. Each
write makes the retry's answer the first attempt's truth, or fails (a 500):
- a store and an update write a fresh etag: a retry whose condition fails on an item
  carrying that etag meets its own earlier attempt, which succeeded;
- a delete is a one-item transaction with a ClientRequestToken, which DynamoDB makes
  idempotent: a retry of a committed delete succeeds again without effect, a retry of a
  delete that changed nothing is evaluated afresh (see remove_item);
- a retried write whose condition failed on someone else's version written before the call
  began met that same version on every attempt: its refusal is the truth. Met a version
  written during the call, it cannot tell whether its lost first attempt wrote before that
  version: it raises UnknownOutcomeError (a 500, which the contract allows there).
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from botocore.exceptions import ClientError

from lockbox.core import dynamodb
from lockbox.core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

# If-Match as the input parsers hand it over: None (no header), "*" (any version), or the
# opaque tags it lists (an empty tuple matches nothing).
IfMatch = Literal["*"] | tuple[str, ...] | None

# Items written before versions existed carry no etag: they answer this one until their
# next write, and If-Match with it matches exactly them. Written etags are 32 hex digits.
UNVERSIONED_ETAG = "0"

_LIVE = "(attribute_not_exists(expires_at) OR expires_at > :now)"
_PRESENT = f"attribute_exists(user_id) AND {_LIVE}"
_ABSENT = "attribute_not_exists(user_id) OR expires_at <= :now"


class WriteOutcome(Enum):
    """Why a conditional update or delete did not happen (or that it did)."""

    DONE = "done"
    NOT_FOUND = "not_found"  # absent, or expired
    VERSION_MISMATCH = "version_mismatch"  # present with another version than If-Match


class UnknownOutcomeError(RuntimeError):
    """A retried write met another writer's version: whether our lost attempt wrote first
    cannot be known, so the call answers 500 rather than a possibly wrong 2xx/4xx."""


class StoredItem(NamedTuple):
    value_json: str
    etag: str
    expires_at: int | None = None
    metadata_json: str | None = None


class ListedKey(NamedTuple):
    key: str
    etag: str
    expires_at: int | None
    metadata_json: str | None


class Listing(NamedTuple):
    entries: list[ListedKey]
    last_key: str | None  # where the next page starts; None at the end


def _key(user_id: str, key: str) -> dict[str, dict[str, str]]:
    return {"user_id": {"S": user_id}, "key": {"S": key}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _epoch() -> int:
    """Now in whole Unix seconds: an item is expired once `expires_at <= _epoch()`."""
    return int(time.time())


def _expiry(ttl: int) -> int:
    """expires_at for a ttl: at least `ttl` seconds from now, at most one more (rounded up
    to the next whole second, so a ttl of 1 never expires at once)."""
    return math.ceil(time.time()) + ttl


def _new_etag() -> str:
    return secrets.token_hex(16)


def _old_item(found: object) -> Mapping[str, Any] | None:
    """The item as it was, from ReturnValuesOnConditionCheckFailure=ALL_OLD (None: absent)."""
    return found if isinstance(found, Mapping) else None


def _was_retried(error: ClientError) -> bool:
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


def _expires_at(item: Mapping[str, Any]) -> int | None:
    raw = item.get("expires_at", {}).get("N")
    return None if raw is None else int(raw)


def _is_live(item: Mapping[str, Any] | None, now: int) -> bool:
    if not item:
        return False
    expires_at = _expires_at(item)
    return expires_at is None or expires_at > now


def _etag_of(item: Mapping[str, Any] | None) -> str | None:
    value = (item or {}).get("etag", {}).get("S")
    return value if isinstance(value, str) else None


def _version_of(item: Mapping[str, Any]) -> str:
    """The etag a live item answers with (UNVERSIONED_ETAG for one written before etags)."""
    return _etag_of(item) or UNVERSIONED_ETAG


def _metadata_of(item: Mapping[str, Any]) -> str | None:
    value = item.get("metadata", {}).get("S")
    return value if isinstance(value, str) else None


def stored_item(item: Mapping[str, Any]) -> StoredItem:
    """A live item as read (with its value) from the table."""
    return StoredItem(item["value"]["S"], _version_of(item), _expires_at(item), _metadata_of(item))


def _if_match_condition(if_match: IfMatch, values: dict[str, Any]) -> str:
    """The If-Match part of a condition (nothing for None and "*": presence is required anyway)."""
    if if_match is None or if_match == "*":
        return ""
    tags = if_match or ("-",)  # no usable tag: "-" is never an etag, so nothing matches
    names = []
    for index, tag in enumerate(tags):
        values[f":m{index}"] = {"S": tag}
        names.append(f":m{index}")
    unversioned = " OR attribute_not_exists(etag)" if UNVERSIONED_ETAG in tags else ""
    return f" AND (etag IN ({', '.join(names)}){unversioned})"


def _older_than_call(item: Mapping[str, Any] | None, started: str) -> bool:
    """Whether the item was last written before this call began (so no attempt of ours wrote
    it, and every attempt met it). Timestamps are ISO 8601 UTC of one width: they sort."""
    written = (item or {}).get("updated_at", {}).get("S")
    return isinstance(written, str) and written < started


def _refusal_is_true(error: ClientError, old: Mapping[str, Any] | None, started: str) -> None:
    """A retried write that met another version written during the call: raise."""
    if _was_retried(error) and not _older_than_call(old, started):
        raise UnknownOutcomeError("a retried write met a version written during the call")


def _failed_update(
    error: ClientError, old: Mapping[str, Any] | None, now: int, etag: str, started: str
) -> WriteOutcome:
    """What a failed conditional update means, from the item as it was."""
    if not _is_live(old, now):
        return WriteOutcome.NOT_FOUND
    if _etag_of(old) == etag:
        return WriteOutcome.DONE  # our own lost first attempt wrote it
    _refusal_is_true(error, old, started)
    return WriteOutcome.VERSION_MISMATCH


def put_new_item(
    user_id: str, key: str, value_json: str, ttl: int | None, metadata_json: str | None = None
) -> str | None:
    """Store a new item (over an expired one too); its etag, or None if the key exists."""
    now = _now()
    epoch = _epoch()
    etag = _new_etag()
    item = {
        **_key(user_id, key),
        "value": {"S": value_json},
        "created_at": {"S": now},
        "updated_at": {"S": now},
        "etag": {"S": etag},
    }
    if ttl is not None:
        item["expires_at"] = {"N": str(_expiry(ttl))}
    if metadata_json is not None:
        item["metadata"] = {"S": metadata_json}
    try:
        dynamodb.client().put_item(
            TableName=get_settings().items_table,
            Item=item,
            ConditionExpression=_ABSENT,
            ExpressionAttributeValues={":now": {"N": str(epoch)}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise
        old = _old_item(error.response.get("Item"))
        if _etag_of(old) == etag:
            return etag  # our own lost first attempt stored it
        _refusal_is_true(error, old, now)
        return None
    return etag


def read_item(user_id: str, key: str) -> StoredItem | None:
    """The stored value's JSON text, etag, expiry and metadata, or None if absent or expired."""
    response = dynamodb.client().get_item(
        TableName=get_settings().items_table,
        Key=_key(user_id, key),
        ProjectionExpression="#v, etag, expires_at, metadata",
        ExpressionAttributeNames={"#v": "value"},
        ConsistentRead=True,  # read-your-writes, as a key-value store's clients expect
    )
    item = response.get("Item")
    if item is None or not _is_live(item, _epoch()):
        return None
    return stored_item(item)


def _update_value(
    user_id: str, key: str, update: str, condition: str, values: dict[str, Any]
) -> None:
    """One conditional UpdateItem of an item (`#v` names its value); a failed condition
    raises with the item as it was."""
    dynamodb.client().update_item(
        TableName=get_settings().items_table,
        Key=_key(user_id, key),
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeNames={"#v": "value"},
        ExpressionAttributeValues=values,
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _replacement(ttl: int | None, metadata_json: str | None, values: dict[str, Any]) -> str:
    """The UpdateExpression of a whole entry's replacement (:v, :updated and :etag in
    `values`), its expiry and metadata set or removed; their values are added to `values`."""
    sets = ["#v = :v", "updated_at = :updated", "etag = :etag"]
    removals = []
    if ttl is None:
        removals.append("expires_at")  # a PUT without ttl makes the key permanent again
    else:
        sets.append("expires_at = :expires")
        values[":expires"] = {"N": str(_expiry(ttl))}
    if metadata_json is None:
        removals.append("metadata")  # a PUT replaces the whole entry
    else:
        sets.append("metadata = :metadata")
        values[":metadata"] = {"S": metadata_json}
    return "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removals) if removals else "")


def replace_item_value(
    user_id: str,
    key: str,
    value_json: str,
    ttl: int | None,
    if_match: IfMatch,
    metadata_json: str | None = None,
) -> tuple[WriteOutcome, str]:
    """Replace the whole entry of a live item: value, a new etag, expiry and metadata (none
    without ttl or metadata)."""
    started = _now()
    epoch = _epoch()
    etag = _new_etag()
    values: dict[str, Any] = {
        ":v": {"S": value_json},
        ":updated": {"S": started},
        ":etag": {"S": etag},
        ":now": {"N": str(epoch)},
    }
    update = _replacement(ttl, metadata_json, values)
    condition = _PRESENT + _if_match_condition(if_match, values)
    try:
        _update_value(user_id, key, update, condition, values)
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise
        old = _old_item(error.response.get("Item"))
        return _failed_update(error, old, epoch, etag, started), etag
    return WriteOutcome.DONE, etag


def swap_item_value(user_id: str, key: str, seen: StoredItem | None, value_json: str) -> str | None:
    """Write a new value over exactly the version read (`seen`; None: the key was absent),
    keeping its expiry and metadata; one conditional request. The new etag, or None when
    another write came between the read and this one (the caller reads again).

    A key found absent is created without expiry or metadata, only if still absent.
    """
    started = _now()
    epoch = _epoch()
    etag = _new_etag()
    values: dict[str, Any] = {":now": {"N": str(epoch)}}
    try:
        if seen is None:
            dynamodb.client().put_item(
                TableName=get_settings().items_table,
                Item={
                    **_key(user_id, key),
                    "value": {"S": value_json},
                    "created_at": {"S": started},
                    "updated_at": {"S": started},
                    "etag": {"S": etag},
                },
                ConditionExpression=_ABSENT,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        else:
            values |= {":v": {"S": value_json}, ":updated": {"S": started}, ":etag": {"S": etag}}
            condition = _PRESENT + _if_match_condition((seen.etag,), values)
            update = "SET #v = :v, updated_at = :updated, etag = :etag"
            _update_value(user_id, key, update, condition, values)
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise
        if _etag_of(_old_item(error.response.get("Item"))) == etag:
            return etag  # our own lost first attempt wrote it
        if _was_retried(error):
            # Another version now: whether our lost attempt wrote before it is unknown,
            # and reading again would apply the change a second time.
            raise UnknownOutcomeError("a retried swap met another version") from None
        return None
    return etag


def remove_item(user_id: str, key: str, if_match: IfMatch) -> WriteOutcome:
    """Delete a live item.

    One TransactWriteItems with one Delete and a ClientRequestToken, rather than DeleteItem:
    a DeleteItem retried after its lost first attempt deleted finds nothing and cannot tell
    that from a key that never existed. "Providing a ClientRequestToken makes the call to
    TransactWriteItems idempotent, meaning that multiple identical calls have the same effect
    as one single call", for 10 minutes after the first completes (Amazon DynamoDB API
    Reference, TransactWriteItems, ClientRequestToken:
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
    botocore resends the same request within seconds, token and parameters unchanged (so no
    IdempotentParameterMismatch): a retry of a committed delete answers success without
    effect, and a retry of an attempt that changed nothing (throttled, timed out before it
    ran, cancelled) is evaluated anew and answers the truth. The price: a transactional write
    costs 2 write capacity units per item instead of 1, still one request.

    Rejected alternative: a DeleteItem that leaves a tombstone (or a delete id) for its
    retry to recognise would also cost one request, but every read, condition and listing
    would have to skip tombstones, and they would need their own expiry.
    """
    epoch = _epoch()
    values: dict[str, Any] = {":now": {"N": str(epoch)}}
    condition = _PRESENT + _if_match_condition(if_match, values)
    try:
        dynamodb.client().transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": get_settings().items_table,
                        "Key": _key(user_id, key),
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": values,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ],
            ClientRequestToken=str(uuid.uuid4()),
        )
    except ClientError as error:
        reasons = dynamodb.cancellation_reasons(error) or [{}]
        if not dynamodb.is_condition_reason(reasons[0]):
            raise
        # No retry question here: the token made any retry answer the truth.
        if not _is_live(_old_item(reasons[0].get("Item")), epoch):
            return WriteOutcome.NOT_FOUND
        return WriteOutcome.VERSION_MISMATCH
    return WriteOutcome.DONE


def _query_page(
    user_id: str, prefix: str, start_key: str | None, projection: str, limit: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One Query of the user's live items starting with `prefix`, in UTF-8 byte order,
    after `start_key`: the items (with `projection`, where `#k` is the key and `#v` the
    value) and the key the next page starts after (None at the end).

    Expired items are filtered out by DynamoDB after the Limit (and its 1 MB a Query) is
    applied, so a page may hold fewer items with more to follow.
    """
    epoch = _epoch()
    values: dict[str, Any] = {":u": {"S": user_id}, ":now": {"N": str(epoch)}}
    key_condition = "user_id = :u"
    if prefix:
        key_condition += " AND begins_with(#k, :p)"
        values[":p"] = {"S": prefix}
    names = {"#k": "key"} | ({"#v": "value"} if "#v" in projection else {})
    request: dict[str, Any] = {
        "TableName": get_settings().items_table,
        "KeyConditionExpression": key_condition,
        "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
        "ProjectionExpression": projection,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ConsistentRead": True,  # a key stored a moment ago is listed
    }
    if limit is not None:
        request["Limit"] = limit
    if start_key is not None:
        request["ExclusiveStartKey"] = _key(user_id, start_key)  # always the caller's own
    response = dynamodb.client().query(**request)
    last = response.get("LastEvaluatedKey")
    return list(response.get("Items", [])), None if last is None else last["key"]["S"]


def query_keys(user_id: str, prefix: str, limit: int, start_key: str | None) -> Listing:
    """One page of the user's live keys starting with `prefix` (at most `limit`): one Query
    on the table's key."""
    items, last_key = _query_page(
        user_id, prefix, start_key, "#k, etag, expires_at, metadata", limit
    )
    entries = [
        ListedKey(item["key"]["S"], _version_of(item), _expires_at(item), _metadata_of(item))
        for item in items
    ]
    return Listing(entries, last_key)


class ItemPage(NamedTuple):
    items: list[tuple[str, StoredItem]]  # (key, entry) in UTF-8 byte order of the keys
    last_key: str | None  # where the next page starts; None at the end


def query_items(user_id: str, start_key: str | None) -> ItemPage:
    """One page of the user's live items, whole (value, etag, expiry, metadata), after
    `start_key`: one Query, as much as DynamoDB answers at once (1 MB of items at most)."""
    items, last_key = _query_page(
        user_id, "", start_key, "#k, #v, etag, expires_at, metadata", None
    )
    return ItemPage([(item["key"]["S"], stored_item(item)) for item in items], last_key)


# --- the purge of a deleted user's items ---------------------------------------------

PURGE_PAGE_SIZE = 1000
_BATCH_SIZE = 25
_UNPROCESSED_BACKOFF_SECONDS = 0.05
_UNPROCESSED_ROUNDS = 10


class PurgeStalledError(Exception):
    """DynamoDB kept some deletes unprocessed (throttling); the purge is retried later."""


def purge_key_page(user_id: str) -> list[dict[str, Any]]:
    """Up to PURGE_PAGE_SIZE of the user's item keys: always the first page, since every page
    read is deleted before the next is asked for (so a retried purge resumes by itself)."""
    response = dynamodb.client().query(
        TableName=get_settings().items_table,
        KeyConditionExpression="user_id = :user_id",
        ExpressionAttributeValues={":user_id": {"S": user_id}},
        ProjectionExpression="user_id, #key",
        ExpressionAttributeNames={"#key": "key"},
        Limit=PURGE_PAGE_SIZE,
    )
    return list(response.get("Items", []))


def purge_keys(keys: list[dict[str, Any]]) -> None:
    """Delete these items, 25 per BatchWriteItem, retrying what DynamoDB left unprocessed."""
    table = get_settings().items_table
    client = dynamodb.client()
    for start in range(0, len(keys), _BATCH_SIZE):
        requests: list[WriteRequestTypeDef] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_SIZE]
        ]
        for attempt in range(_UNPROCESSED_ROUNDS):
            response = client.batch_write_item(RequestItems={table: requests})
            unprocessed = response.get("UnprocessedItems", {}).get(table, [])
            requests = [{"DeleteRequest": {"Key": r["DeleteRequest"]["Key"]}} for r in unprocessed]
            if not requests:
                break
            time.sleep(_UNPROCESSED_BACKOFF_SECONDS * 2**attempt * dynamodb.jitter())
        else:
            raise PurgeStalledError


# --- many keys at once -------------------------------------------------------------------


def read_items(user_id: str, keys: list[str]) -> dict[str, StoredItem]:
    """The live items among the user's `keys` (at most 100), by key; absent and expired
    keys are left out. One BatchGetItem, strongly consistent, and again only for the keys
    it left unprocessed (lockbox.core.dynamodb.get_items)."""
    items = dynamodb.get_items(
        get_settings().items_table,
        [_key(user_id, key) for key in keys],
        "user_id, #k, #v, etag, expires_at, metadata",  # the key, to match answers by
        {"#k": "key", "#v": "value"},
    )
    epoch = _epoch()
    return {
        item["key"]["S"]: stored_item(item)
        for item in items
        if item is not None and _is_live(item, epoch)
    }


class BatchRefusal(Enum):
    """Why one operation of a batch write cannot be applied."""

    EXISTS = "exists"  # a store of a live key
    NOT_FOUND = "not_found"  # an update or delete of an absent or expired key
    VERSION_MISMATCH = "version_mismatch"  # If-Match names another version


class BatchWrite(NamedTuple):
    """One operation of a batch write, as its input parser checked it."""

    op: Literal["store", "update", "delete"]
    key: str
    value_json: str | None = None
    ttl: int | None = None
    metadata_json: str | None = None
    if_match: IfMatch = None


def _batch_item(user_id: str, write: BatchWrite, etag: str, started: str, epoch: int) -> Any:
    """The TransactWriteItems entry of one operation, its condition the single call's."""
    table = get_settings().items_table
    values: dict[str, Any] = {":now": {"N": str(epoch)}}
    common = {"TableName": table, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if write.op == "store":
        item = {
            **_key(user_id, write.key),
            "value": {"S": write.value_json},
            "created_at": {"S": started},
            "updated_at": {"S": started},
            "etag": {"S": etag},
        }
        if write.ttl is not None:
            item["expires_at"] = {"N": str(_expiry(write.ttl))}
        if write.metadata_json is not None:
            item["metadata"] = {"S": write.metadata_json}
        put = {"Item": item, "ConditionExpression": _ABSENT, "ExpressionAttributeValues": values}
        return {"Put": {**common, **put}}
    condition = _PRESENT + _if_match_condition(write.if_match, values)
    key = {"Key": _key(user_id, write.key), "ConditionExpression": condition}
    if write.op == "delete":
        return {"Delete": {**common, **key, "ExpressionAttributeValues": values}}
    values |= {":v": {"S": write.value_json}, ":updated": {"S": started}, ":etag": {"S": etag}}
    update = _replacement(write.ttl, write.metadata_json, values)
    return {
        "Update": {
            **common,
            **key,
            "UpdateExpression": update,
            "ExpressionAttributeNames": {"#v": "value"},
            "ExpressionAttributeValues": values,
        }
    }


def write_items(
    user_id: str, writes: list[BatchWrite]
) -> tuple[list[str | None], dict[int, BatchRefusal]]:
    """Apply every write or none: one TransactWriteItems with a ClientRequestToken, so a
    retry of a committed batch succeeds without effect. The new etags (None for a delete)
    and, when a condition failed, why each failing operation (by index) was refused."""
    started = _now()
    epoch = _epoch()
    etags = [None if write.op == "delete" else _new_etag() for write in writes]
    items = [
        _batch_item(user_id, write, etag or "", started, epoch)
        for write, etag in zip(writes, etags, strict=True)
    ]
    try:
        dynamodb.transact_write(items, token=str(uuid.uuid4()))
    except ClientError as error:
        reasons = dynamodb.cancellation_reasons(error)
        if not reasons or not dynamodb.cancelled_by_condition(error):
            raise
        refusals: dict[int, BatchRefusal] = {}
        for index, (write, reason) in enumerate(zip(writes, reasons, strict=True)):
            if not dynamodb.is_condition_reason(reason):
                continue
            if write.op == "store":
                refusals[index] = BatchRefusal.EXISTS
            elif _is_live(_old_item(reason.get("Item")), epoch):
                refusals[index] = BatchRefusal.VERSION_MISMATCH
            else:
                refusals[index] = BatchRefusal.NOT_FOUND
        return [], refusals
    return etags, {}
