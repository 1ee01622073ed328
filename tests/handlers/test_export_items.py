"""GET /api/export against moto tables from template.yaml: the account on the first page,
every live key whole, a page at a time under 5,000,000 bytes, one Query a page, signed
cursors bound to the user and the export."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from lockbox.core import responses
from lockbox.core.errors import ErrorCode
from lockbox.core.responses import MAX_BODY_BYTES
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, with_user, without_details
from tests.handlers.items import BOB, CONTEXT, NOW, export, get, listing, store

LAMBDA_RESPONSE_LIMIT = 6_291_556  # bytes of the function's whole JSON answer


def walk(user: str) -> list[dict[str, Any]]:
    """Every page of the user's export, in order."""
    pages, cursor = [], None
    while True:
        status, body = export(user, cursor)
        assert status == 200, body
        pages.append(body["data"])
        cursor = body["data"]["cursor"]
        if cursor is None:
            return pages


def exported_keys(pages: list[dict[str, Any]]) -> list[str]:
    return [item["key"] for page in pages for item in page["items"]]


def test_first_page_is_the_account_and_every_key_whole_in_two_requests(
    user_id: str, dynamodb_requests: Counter[str]
) -> None:
    """Given an account with two keys (one with ttl and metadata), the events/ file answers
    the account as GET /api/account does and both entries whole, in key order, with no
    cursor, in one GetItem and one Query."""
    store("notes", {"a": 1.50}, user=user_id)
    store("photo.jpg", "x", user=user_id, ttl=60, metadata={"w": 640})
    notes, photo = get("notes", user_id), get("photo.jpg", user_id)
    account = call(
        handler("get_account"), with_user(load_event("get_account_success"), user_id), CONTEXT
    )
    dynamodb_requests.clear()

    status, body = call(
        handler("export_items"), with_user(load_event("export_items_success"), user_id), CONTEXT
    )

    assert status == 200
    assert dynamodb_requests == Counter({"GetItem": 1, "Query": 1})
    items = body["data"]["items"]
    assert body["data"]["account"] == account[1]["data"]
    assert body["data"]["cursor"] is None
    assert items[0] == {
        "key": "notes",
        "value": {"a": 1.50},
        "etag": notes.headers["ETag"],
        "expires_at": None,
        "metadata": None,
    }
    assert items[1]["key"] == "photo.jpg"
    assert items[1]["etag"] == photo.headers["ETag"]
    assert isinstance(items[1]["expires_at"], int)
    assert items[1]["metadata"] == {"w": 640}


@pytest.mark.usefixtures("aws_tables")
def test_an_account_deleted_since_its_token_was_checked_is_invalid_token() -> None:
    """Given a caller whose profile does not exist (the events/ file's user was never
    registered here), the first page answers INVALID_TOKEN, as GET /api/account does."""
    assert without_details(export()) == error(ErrorCode.INVALID_TOKEN)


def export_responses(user: str) -> list[dict[str, Any]]:
    """The function's whole answers to a walk of the user's export."""
    responses, cursor = [], None
    while True:
        event = with_user(load_event("export_items_success"), user)
        if cursor is not None:
            event["queryStringParameters"] = {"cursor": cursor}
        responses.append(handler("export_items")(event, CONTEXT))
        cursor = json.loads(responses[-1]["body"])["data"]["cursor"]
        if cursor is None:
            return responses


def pages_of(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(response["body"])["data"] for response in responses]


def test_a_walk_answers_every_key_once_one_query_a_page(
    user_id: str, dynamodb_requests: Counter[str]
) -> None:
    """Given 90 keys of 60 KB (5.4 MB), every page's body is under 5,000,000 bytes and the
    function's whole answer under Lambda's 6 MB; the walk returns each key once, in key
    order, the account on the first page only; GetItem once, then one Query a page."""
    keys = [f"big{index:02d}" for index in range(90)]
    for key in keys:
        store(key, "x" * 60_000, user=user_id)
    dynamodb_requests.clear()

    responses = export_responses(user_id)

    pages = pages_of(responses)
    assert len(pages) > 1
    assert exported_keys(pages) == keys
    for response in responses:
        assert len(response["body"].encode()) < MAX_BODY_BYTES
        assert len(json.dumps(response).encode()) < LAMBDA_RESPONSE_LIMIT
    assert pages[0]["account"] is not None
    assert all(page["account"] is None for page in pages[1:])
    assert dynamodb_requests == Counter({"GetItem": 1, "Query": len(pages)})


@pytest.mark.parametrize("value", ["x" * 20_000, '"' * 10_000, "€" * 5_000])
def test_a_page_stops_before_its_measure_would_pass_the_bound(
    user_id: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Given a bound of 200,000 bytes (DynamoDB's 1 MB a Query keeps real pages far under
    5,000,000) and 40 values of 20,000 characters, quotes or euro signs, each page's body
    measures under the bound as Lambda may hold it (quotes escaped again, a non-ASCII
    character as a \\u escape) and the walk returns every key exactly once."""
    monkeypatch.setattr(responses, "MAX_BODY_BYTES", 200_000)
    keys = [f"k{index:02d}" for index in range(40)]
    for key in keys:
        store(key, value, user=user_id)

    answers = export_responses(user_id)

    assert len(answers) > 1
    for response in answers:
        assert len(json.dumps(response["body"])) - 2 < 200_000
    assert exported_keys(pages_of(answers)) == keys


def test_expired_and_other_users_keys_are_left_out(
    user_id: str, clock: Callable[[int], None]
) -> None:
    store("soon", 1, user=user_id, ttl=5)
    store("later", 2, user=user_id, ttl=60)
    store("bobs", 3, user=BOB)
    clock(NOW + 5)

    assert exported_keys(walk(user_id)) == ["later"]


def test_a_cursor_is_bound_to_its_user_and_to_the_export(user_id: str) -> None:
    """Given a cursor from a page of the caller's export (pages end at the size bound), the
    next page takes it; Bob, the listing, and a changed cursor refuse it with
    INVALID_PARAMETER naming cursor, and the export refuses a listing's cursor."""
    for index in range(90):
        store(f"big{index:02d}", "x" * 60_000, user=user_id)
    cursor = export(user_id)[1]["data"]["cursor"]
    store("a1", 1, user=user_id)
    store("a2", 2, user=user_id)
    listing_cursor = listing(user_id, limit="1")[1]["data"]["cursor"]
    assert cursor
    assert listing_cursor

    assert export(user_id, cursor)[0] == 200
    refusals = [
        export(BOB, cursor),
        export(user_id, cursor[:-1]),
        export(user_id, listing_cursor),
        listing(user_id, cursor=cursor),
    ]
    for status, body in refusals:
        assert (status, body["code"]) == (400, "INVALID_PARAMETER")
        assert [detail["field"] for detail in body["details"]] == ["cursor"]


@pytest.mark.usefixtures("aws_tables")
def test_forged_cursor_event_is_invalid_parameter() -> None:
    status, body = call(handler("export_items"), load_event("export_items_invalid_cursor"), CONTEXT)

    assert without_details((status, body)) == error(ErrorCode.INVALID_PARAMETER)
    assert body["details"][0]["field"] == "cursor"
