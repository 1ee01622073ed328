"""Business logic of the data calls: each user's private key-value store.

Keys live under the caller's own user id, so another user's key is simply absent:
B gets KEY_NOT_FOUND for A's key exactly as for a key nobody has.
"""

from __future__ import annotations

import json
from typing import Any

from lockbox import items
from lockbox.envelope import Success
from lockbox.errors import ApiError, ErrorCode
from lockbox.models import StoreRequest, UpdateRequest, parse_request, valid_key


def store_value(user_id: str, body: dict[str, Any]) -> Success:
    """POST /api/data: create a key; never overwrites."""
    request = parse_request(StoreRequest, body)
    if not items.put_new_item(user_id, request.key, request.value_json):
        raise ApiError(ErrorCode.KEY_EXISTS)
    return Success(message="Data stored successfully.")


def read_value(user_id: str, key: str) -> Success:
    """GET /api/data/{key}."""
    stored = items.get_item_value(user_id, valid_key(key))
    if stored is None:
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(data={"key": key, "value": json.loads(stored)})


def update_value(user_id: str, key: str, body: dict[str, Any]) -> Success:
    """PUT /api/data/{key}: replace the value of an existing key; the value is checked first."""
    valid_key(key)
    request = parse_request(UpdateRequest, body)
    if not items.replace_item_value(user_id, key, request.value_json):
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(message="Data updated successfully.")


def delete_value(user_id: str, key: str) -> Success:
    """DELETE /api/data/{key}."""
    if not items.delete_item(user_id, valid_key(key)):
        raise ApiError(ErrorCode.KEY_NOT_FOUND)
    return Success(message="Data deleted successfully.")
