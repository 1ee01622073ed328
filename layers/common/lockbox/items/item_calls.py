"""Business logic of the data calls: each user's private key-value store.

Keys live under the caller's own user id, so another user's key is simply absent:
B gets KEY_NOT_FOUND for A's key exactly as for a key nobody has.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lockbox.core import dynamodb, json_text
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.json_text import RawJson
from lockbox.core.responses import MAX_BODY_BYTES, BodyRoom, Success, success_body
from lockbox.core.settings import get_settings
from lockbox.core.validation import RuleViolation
from lockbox.items import item_records
from lockbox.items.cursors import make_cursor
from lockbox.items.item_inputs import (
    BatchGetInput,
    BatchWriteInput,
    DeleteInput,
    ExportInput,
    IncrementInput,
    KeyInput,
    ListInput,
    PatchInput,
    StoreInput,
    UpdateInput,
    encode_value,
    export_cursor,
)
from lockbox.items.item_records import BatchRefusal, IfMatch, StoredItem, WriteOutcome

# Read-modify-write calls retry when another write came between their read and their write.
# Of N parallel writers at least one wins each round, so the last of N waits for N - 1
# others: the bound is a time, under the function's 10 s timeout, not a count of attempts,
# so it holds however many race (100 parallel increments of one key all succeed).
REWRITE_DEADLINE_SECONDS = 8.0
REWRITE_BACKOFF_CAP_SECONDS = 0.5

_REFUSED = {
    WriteOutcome.NOT_FOUND: ErrorCode.KEY_NOT_FOUND,
    WriteOutcome.VERSION_MISMATCH: ErrorCode.PRECONDITION_FAILED,
}


def entity_tag(etag: str) -> str:
    """The stored etag as a strong entity tag: quoted."""
    return f'"{etag}"'


def etag_header(etag: str) -> dict[str, str]:
    return {"ETag": entity_tag(etag)}


def store_item(request: StoreInput) -> Success:
    """POST /api/data: create a key (or replace an expired one); never overwrites."""
    etag = item_records.put_new_item(
        request.user_id, request.key, request.value_json, request.ttl, request.metadata_json
    )
    if etag is None:
        raise ApiError(ErrorCode.KEY_EXISTS)
    return Success(message="Data stored successfully.", headers=etag_header(etag))


def raw_or_null(text: str | None) -> RawJson | None:
    """Stored JSON text as it is, or null when there is none (metadata)."""
    return None if text is None else RawJson(text)


def get_item(request: KeyInput) -> Success:
    """GET /api/data/{key}."""
    found = item_records.read_item(request.user_id, request.key)
    if found is None:
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(
        data={
            "key": request.key,
            "value": RawJson(found.value_json),
            "metadata": raw_or_null(found.metadata_json),
        },
        headers=etag_header(found.etag),
    )


def update_item(request: UpdateInput) -> Success:
    """PUT /api/data/{key}: replace the value (and expiry and metadata) of an existing key."""
    outcome, etag = item_records.replace_item_value(
        request.user_id,
        request.key,
        request.value_json,
        request.ttl,
        request.if_match,
        request.metadata_json,
    )
    if outcome is not WriteOutcome.DONE:
        raise ApiError(_REFUSED[outcome])
    return Success(message="Data updated successfully.", headers=etag_header(etag))


def delete_item(request: DeleteInput) -> Success:
    """DELETE /api/data/{key}."""
    outcome = item_records.remove_item(request.user_id, request.key, request.if_match)
    if outcome is not WriteOutcome.DONE:
        raise ApiError(_REFUSED[outcome])
    return Success(message="Data deleted successfully.")


def whole_entry(key: str, item: StoredItem) -> dict[str, object]:
    """A key's whole entry, as batch reads and the export answer it."""
    return {
        "key": key,
        "value": RawJson(item.value_json),
        "etag": entity_tag(item.etag),
        "expires_at": item.expires_at,
        "metadata": raw_or_null(item.metadata_json),
    }


def batch_get(request: BatchGetInput) -> Success:
    """POST /api/batch/get: the live keys with their whole entries, in the order asked, and
    the keys that are missing (absent, expired, or another user's: all alike).

    Every key asked is answered, or none: an answer that would not fit Lambda's response
    (100 values near the 64 KiB limit come to 6.5 MB) is INVALID_REQUEST naming how many of
    the first keys fit, never a 500 from the platform.
    """
    found = item_records.read_items(request.user_id, request.keys)
    room = BodyRoom(success_body(Success(data={"items": [], "missing": []})))
    items: list[RawJson] = []
    for index, key in enumerate(request.keys):
        item = found.get(key)
        entry = json_text.encode(key if item is None else whole_entry(key, item))
        if not room.take(entry):
            reason = (
                f"The answer would be over {MAX_BODY_BYTES} bytes: ask for fewer keys at once "
                f"(the first {index} fit)."
            )
            raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("keys", reason)])
        if item is not None:
            items.append(RawJson(entry))
    missing = [key for key in request.keys if key not in found]
    return Success(data={"items": items, "missing": missing})


_BATCH_REFUSED = {
    BatchRefusal.EXISTS: ErrorCode.KEY_EXISTS,
    BatchRefusal.NOT_FOUND: ErrorCode.KEY_NOT_FOUND,
    BatchRefusal.VERSION_MISMATCH: ErrorCode.PRECONDITION_FAILED,
}


def batch_write(request: BatchWriteInput) -> Success:
    """POST /api/batch/write: every operation or none. A refusal answers the code of the
    first failing operation in list order and names every failing one."""
    etags, refusals = item_records.write_items(request.user_id, request.writes)
    if refusals:
        codes = {index: _BATCH_REFUSED[refusal] for index, refusal in sorted(refusals.items())}
        details = [Detail(f"operations[{index}]", code.message) for index, code in codes.items()]
        raise ApiError(codes[min(codes)], details)
    results = [
        {"key": write.key, "etag": None if etag is None else entity_tag(etag)}
        for write, etag in zip(request.writes, etags, strict=True)
    ]
    return Success(message="Batch applied successfully.", data={"results": results})


def list_items(request: ListInput) -> Success:
    """GET /api/data: one page of the caller's keys, and the cursor of the next."""
    page = item_records.query_keys(
        request.user_id, request.prefix, request.limit, request.start_key
    )
    keys = [
        {
            "key": entry.key,
            "etag": entity_tag(entry.etag),
            "expires_at": entry.expires_at,
            "metadata": raw_or_null(entry.metadata_json),
        }
        for entry in page.entries
    ]
    cursor = None
    if page.last_key is not None:
        cursor = make_cursor(request.user_id, request.prefix, page.last_key)
    return Success(data={"keys": keys, "cursor": cursor})


# Room for the longest cursor in a page's measure (a cursor of a 256-byte key is far shorter).
_CURSOR_ROOM = "x" * 2048


def export_items(request: ExportInput) -> Success:
    """GET /api/export: the account (first page only) and a page of the caller's whole
    entries in key order, the body under MAX_BODY_BYTES as Lambda's response holds it.

    One Query a page (plus the account's GetItem on the first). Each entry is encoded once
    and measured as it is added; the page stops before one that would not fit, and the
    cursor then names the last entry answered, so the next page starts with the one left
    out. A page never stops before its first entry, which always fits (an item is 400 KB at
    most in DynamoDB), so every walk moves on.
    """
    # Imported here: the account's modules (its records, sessions, second factor, tokens)
    # would otherwise load with every data call, a tenth of each cold start.
    from lockbox.accounts.profiles import account_profile

    account = account_profile(request.user_id) if request.start_key is None else None
    page = item_records.query_items(request.user_id, request.start_key)
    room = BodyRoom(
        success_body(Success(data={"account": account, "items": [], "cursor": _CURSOR_ROOM}))
    )
    entries: list[RawJson] = []
    last_key = page.last_key
    for index, (key, item) in enumerate(page.items):
        entry = json_text.encode(whole_entry(key, item))
        if not room.take(entry) and entries:
            last_key = page.items[index - 1][0]
            break
        entries.append(RawJson(entry))
    cursor = None if last_key is None else export_cursor(request.user_id, last_key)
    return Success(data={"account": account, "items": entries, "cursor": cursor})


def rewrite_item(
    user_id: str, key: str, change: Callable[[StoredItem | None], str]
) -> tuple[str, str]:
    """Read the key, compute its new value with `change` (which may refuse), and write it
    over exactly the version read; again, after a jittered wait, when another write came
    between. The new value's JSON text and etag. Two requests when nothing intervenes."""
    deadline = time.monotonic() + REWRITE_DEADLINE_SECONDS
    attempt = 0
    while True:
        seen = item_records.read_item(user_id, key)
        value_json = change(seen)
        etag = item_records.swap_item_value(user_id, key, seen, value_json)
        if etag is not None:
            return value_json, etag
        if time.monotonic() >= deadline:
            raise RuntimeError(f"conflicting writes for {REWRITE_DEADLINE_SECONDS} s")
        # Full jitter, capped: racers spread out instead of colliding again in step; the
        # more conflicts, the wider the spread.
        cap = min(REWRITE_BACKOFF_CAP_SECONDS, 0.005 * 2 ** min(attempt, 10))
        time.sleep(cap * dynamodb.jitter(0.0, 1.0))
        attempt += 1


def _incremented(by: str) -> Callable[[StoredItem | None], str]:
    def add(seen: StoredItem | None) -> str:
        current = "0"
        if seen is not None:
            # Only a number's text starts so; anything else is not parsed at all.
            number = seen.value_json[:1] in "-0123456789" and json_text.parse(seen.value_json)
            current = json_text.number_text(number) or ""
            if not current:
                raise ApiError(ErrorCode.VALUE_NOT_A_NUMBER)
        limit = get_settings().max_value_bytes
        try:
            total = json_text.exact_sum(current, by, limit)
        except json_text.NumberTooLongError:
            total = ""
        if not total or len(total) > limit:
            reason = f"The exact result must be at most {limit} bytes as JSON."
            raise ApiError(ErrorCode.INVALID_VALUE, [Detail("by", reason)])
        return total

    return add


def increment_item(request: IncrementInput) -> Success:
    """POST /api/data/{key}/increment: add `by` to a stored number exactly; an absent key
    starts from 0 (without expiry or metadata), an existing one keeps both."""
    total, etag = rewrite_item(request.user_id, request.key, _incremented(request.by))
    return Success(data={"key": request.key, "value": RawJson(total)}, headers=etag_header(etag))


def _matches(etag: str, if_match: IfMatch) -> bool:
    return if_match is None or if_match == "*" or etag in if_match


def _patched(request: PatchInput) -> Callable[[StoredItem | None], str]:
    def apply(seen: StoredItem | None) -> str:
        if seen is None:
            raise ApiError(ErrorCode.KEY_NOT_FOUND)
        # The write goes over exactly this version, so the check holds in that same write.
        if not _matches(seen.etag, request.if_match):
            raise ApiError(ErrorCode.PRECONDITION_FAILED)
        try:
            return encode_value(
                json_text.merge_patch(json_text.parse(seen.value_json), request.patch)
            )
        except RuleViolation as violation:
            raise ApiError(violation.code, [Detail("value", violation.reason)]) from None
        except RecursionError:  # a value and patch nested deeper than the merge goes
            reason = "The patched value must be storable exactly."
            raise ApiError(ErrorCode.INVALID_VALUE, [Detail("value", reason)]) from None

    return apply


def patch_item(request: PatchInput) -> Success:
    """PATCH /api/data/{key}: apply an RFC 7396 merge patch to the stored value; the key
    keeps its expiry and metadata. Concurrent patches merge, none lost."""
    _, etag = rewrite_item(request.user_id, request.key, _patched(request))
    return Success(message="Data updated successfully.", headers=etag_header(etag))
