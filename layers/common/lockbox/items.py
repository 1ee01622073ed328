"""Business logic of the data calls: each user's private key-value store.

Keys live under the caller's own user id, so another user's key is simply absent:
B gets KEY_NOT_FOUND for A's key exactly as for a key nobody has.
"""

from __future__ import annotations

from lockbox import item_table
from lockbox.errors import ApiError, ErrorCode
from lockbox.item_inputs import KeyInput, StoreInput, UpdateInput
from lockbox.json_text import RawJson
from lockbox.responses import Success


def store_item(request: StoreInput) -> Success:
    """POST /api/data: create a key; never overwrites."""
    if not item_table.put_new_item(request.user_id, request.key, request.value_json):
        raise ApiError(ErrorCode.KEY_EXISTS)
    return Success(message="Data stored successfully.")


def get_item(request: KeyInput) -> Success:
    """GET /api/data/{key}."""
    stored = item_table.get_item_value(request.user_id, request.key)
    if stored is None:
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(data={"key": request.key, "value": RawJson(stored)})


def update_item(request: UpdateInput) -> Success:
    """PUT /api/data/{key}: replace the value of an existing key."""
    if not item_table.replace_item_value(request.user_id, request.key, request.value_json):
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(message="Data updated successfully.")


def delete_item(request: KeyInput) -> Success:
    """DELETE /api/data/{key}."""
    if not item_table.delete_item(request.user_id, request.key):
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(message="Data deleted successfully.")
