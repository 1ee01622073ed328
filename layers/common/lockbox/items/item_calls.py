"""Business logic of the data calls: each user's private key-value store.

Keys live under the caller's own user id, so another user's key is simply absent:
B gets KEY_NOT_FOUND for A's key exactly as for a key nobody has.
"""

from __future__ import annotations

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.json_text import RawJson
from lockbox.core.responses import Success
from lockbox.items import item_records
from lockbox.items.cursors import make_cursor
from lockbox.items.item_inputs import DeleteInput, KeyInput, ListInput, StoreInput, UpdateInput
from lockbox.items.item_records import WriteOutcome

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
