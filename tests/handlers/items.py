"""The /api/data calls of the handler suite: store_item, get_item, update_item,
delete_item and list_items, as the authorizer hands them over for a user."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from lockbox_local.events import load_event
from lockbox_local.worker import LambdaContext
from tests.handlers.calls import Answer, call, handler, with_body, with_user

ALICE = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"  # the authorizer context of the events/ files
BOB = "b0b0b0b0-1111-4222-8333-444455556666"
CONTEXT = LambdaContext.for_function("test-function")
NOW = 1_800_000_000  # the data layer's clock under the `clock` fixture

STORED = (200, {"status": "success", "message": "Data stored successfully."})
UPDATED = (200, {"status": "success", "message": "Data updated successfully."})
DELETED = (200, {"status": "success", "message": "Data deleted successfully."})


def found(key: str, value: object) -> tuple[int, dict[str, Any]]:
    return 200, {"status": "success", "data": {"key": key, "value": value, "metadata": None}}


def event_for_key(name: str, key: str, user_id: str | None = None) -> dict[str, Any]:
    """A /api/data/{key} event: the path percent-encoded, pathParameters decoded once."""
    event = load_event(name)
    event["pathParameters"] = {"key": key}
    event["path"] = "/api/data/" + quote(key, safe="")
    event["requestContext"]["path"] = "/dev" + event["path"]
    return with_user(event, user_id) if user_id else event


def with_if_match(event: dict[str, Any], tag: str | None) -> dict[str, Any]:
    if tag is not None:
        event["headers"]["If-Match"] = tag
        event["multiValueHeaders"]["If-Match"] = [tag]
    return event


def store(
    key: str, value: object = "v", user: str = ALICE, context: Any = CONTEXT, **extra: Any
) -> Answer:
    event = with_user(with_body("store_item_success", {"key": key, "value": value, **extra}), user)
    return call(handler("store_item"), event, context)


def get(key: str, user: str = ALICE, context: Any = CONTEXT) -> Answer:
    return call(handler("get_item"), event_for_key("get_item_success", key, user), context)


def update(
    key: str,
    value: object = "new",
    user: str = ALICE,
    context: Any = CONTEXT,
    *,
    tag: str | None = None,
    **extra: Any,
) -> Answer:
    event = event_for_key("update_item_success", key, user)
    event["body"] = json.dumps({"value": value, **extra})
    return call(handler("update_item"), with_if_match(event, tag), context)


def delete(
    key: str, user: str = ALICE, context: Any = CONTEXT, *, tag: str | None = None
) -> Answer:
    event = with_if_match(event_for_key("delete_item_success", key, user), tag)
    return call(handler("delete_item"), event, context)


def listing(user: str = ALICE, **query: str) -> Answer:
    event = with_user(load_event("list_items_success"), user)
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return call(handler("list_items"), event, CONTEXT)


def increment(key: str, body: object = None, user: str = ALICE, context: Any = CONTEXT) -> Answer:
    """POST /api/data/{key}/increment; a body of None is sent as no body at all."""
    event = event_for_key("increment_item_success", key, user)
    event["path"] += "/increment"
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    return call(handler("increment_item"), event, context)


def patch(
    key: str,
    body: object,
    user: str = ALICE,
    *,
    content_type: str = "application/merge-patch+json",
    tag: str | None = None,
) -> Answer:
    """PATCH /api/data/{key} with this body (a str is sent as it is)."""
    event = with_if_match(event_for_key("patch_item_success", key, user), tag)
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return call(handler("patch_item"), event, CONTEXT)


def write_after_first_read(monkeypatch: pytest.MonkeyPatch, value_json: str) -> list[object]:
    """Make another write of `value_json` land just after the call's first read of a key
    (between its read and its write). Returns the reads made, in order."""
    from lockbox.items import item_records

    real_read = item_records.read_item
    reads: list[object] = []

    def read_then_interleave(user_id: str, key: str) -> Any:
        seen = real_read(user_id, key)
        reads.append(seen)
        if len(reads) == 1:
            item_records.swap_item_value(user_id, key, seen, value_json)
        return seen

    monkeypatch.setattr(item_records, "read_item", read_then_interleave)
    return reads


def batch_get(body: object, user: str = ALICE) -> Answer:
    """POST /api/batch/get with this body (a list is sent as {"keys": [...]})."""
    event = with_user(load_event("batch_get_success"), user)
    sent = {"keys": body} if isinstance(body, list) else body
    event["body"] = sent if isinstance(sent, str) else json.dumps(sent)
    return call(handler("batch_get"), event, CONTEXT)


def batch_write(body: object, user: str = ALICE) -> Answer:
    """POST /api/batch/write with this body (a list is sent as {"operations": [...]})."""
    event = with_user(load_event("batch_write_success"), user)
    event["body"] = json.dumps({"operations": body} if isinstance(body, list) else body)
    return call(handler("batch_write"), event, CONTEXT)


def export(user: str = ALICE, cursor: str | None = None) -> Answer:
    """GET /api/export, the first page or the one after `cursor`."""
    event = with_user(load_event("export_items_success"), user)
    if cursor is not None:
        event["queryStringParameters"] = {"cursor": cursor}
        event["multiValueQueryStringParameters"] = {"cursor": [cursor]}
    return call(handler("export_items"), event, CONTEXT)
