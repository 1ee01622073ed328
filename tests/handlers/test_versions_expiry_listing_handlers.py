"""ETags and If-Match, expiry (ttl) and GET /api/data, through the handlers, on moto tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.items import item_records
from lockbox_local.worker import LambdaContext
from tests.handlers.calls import (
    call,
    delete_handler,
    error,
    event_for_key,
    get_handler,
    list_handler,
    load_event,
    store_handler,
    update_handler,
    with_body,
    with_user,
    without_details,
)

ALICE = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
BOB = "b0b0b0b0-1111-4222-8333-444455556666"
NOW = 1_800_000_000
CONTEXT = LambdaContext.for_function("test-function")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the data layer's clock (Unix seconds)."""
    current = [NOW]
    monkeypatch.setattr(item_records, "_epoch", lambda: current[0])
    monkeypatch.setattr(item_records, "_expiry", lambda ttl: current[0] + ttl)

    def set_to(seconds: int) -> None:
        current[0] = seconds

    return set_to


def raw_call(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = handler(event, CONTEXT)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def store(key: str, value: object = "v", user: str = ALICE, **extra: Any) -> Any:
    event = with_user(with_body("store_item_success", {"key": key, "value": value, **extra}), user)
    return raw_call(store_handler, event)


def get(key: str, user: str = ALICE) -> Any:
    return raw_call(get_handler, event_for_key("get_item_success", key, user))


def with_if_match(event: dict[str, Any], tag: str | None) -> dict[str, Any]:
    if tag is not None:
        event["headers"]["If-Match"] = tag
        event["multiValueHeaders"]["If-Match"] = [tag]
    return event


def update(key: str, value: object = "new", tag: str | None = None, **extra: Any) -> Any:
    event = event_for_key("update_item_success", key, ALICE)
    event["body"] = json.dumps({"value": value, **extra})
    return raw_call(update_handler, with_if_match(event, tag))


def delete(key: str, tag: str | None = None) -> Any:
    return raw_call(
        delete_handler, with_if_match(event_for_key("delete_item_success", key, ALICE), tag)
    )


def listing(user: str = ALICE, **query: str) -> Any:
    event = with_user(load_event("list_items_success"), user)
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return raw_call(list_handler, event)


def code_of(answer: Any) -> tuple[int, str]:
    status, _, body = answer
    return status, body.get("code", "")


# --- ETags ------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_tables")
def test_store_get_and_update_answer_a_strong_etag_that_changes_on_every_write() -> None:
    stored_status, stored_headers, _ = store("notes")
    _, got_headers, _ = get("notes")
    _, updated_headers, _ = update("notes")
    _, after_headers, _ = get("notes")

    assert stored_status == 200
    first, second = stored_headers["ETag"], updated_headers["ETag"]
    assert first.startswith('"')
    assert first.endswith('"')
    assert len(first) > 2
    assert got_headers["ETag"] == first
    assert second != first
    assert after_headers["ETag"] == second
    assert "ETag" in stored_headers["Access-Control-Expose-Headers"]


@pytest.mark.usefixtures("aws_tables")
def test_if_match_of_the_current_version_wins_and_a_stale_one_is_412() -> None:
    _, headers, _ = store("notes", "v1")
    tag = headers["ETag"]

    assert update("notes", "v2", tag)[0] == 200
    assert (
        raw_call(
            update_handler, with_if_match(event_for_key("update_item_success", "notes", ALICE), tag)
        )[2]
        == error(ErrorCode.PRECONDITION_FAILED)[1]
    )
    assert delete("notes", tag)[:1] == (412,)
    assert get("notes")[2]["data"]["value"] == "v2"


@pytest.mark.usefixtures("aws_tables")
def test_if_match_star_and_lists_and_weak_tags() -> None:
    _, headers, _ = store("notes")
    tag = headers["ETag"]

    assert update("notes", "a", f'"other", {tag}')[0] == 200
    assert code_of(update("notes", "b", f"W/{get('notes')[1]['ETag']}")) == (
        412,
        "PRECONDITION_FAILED",
    )
    assert code_of(update("notes", "b", "garbage")) == (412, "PRECONDITION_FAILED")
    assert update("notes", "c", "*")[0] == 200
    assert delete("notes", "*")[0] == 200


@pytest.mark.usefixtures("aws_tables")
def test_if_match_on_a_missing_key_is_key_not_found() -> None:
    assert code_of(update("absent", "x", '"abc"')) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("absent", '"abc"')) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("absent", "*")) == (404, "KEY_NOT_FOUND")


@pytest.mark.usefixtures("aws_tables")
def test_if_match_header_name_is_case_insensitive() -> None:
    _, headers, _ = store("notes")
    event = event_for_key("delete_item_success", "notes", ALICE)
    event["headers"]["if-match"] = '"stale"'

    assert code_of(raw_call(delete_handler, event)) == (412, "PRECONDITION_FAILED")
    assert get("notes")[1]["ETag"] == headers["ETag"]


def test_if_match_events_answer_412_on_an_existing_key(aws_tables: Any) -> None:
    call(store_handler, load_event("store_item_success"), CONTEXT)

    assert call(update_handler, load_event("update_item_if_match"), CONTEXT) == error(
        ErrorCode.PRECONDITION_FAILED
    )
    assert call(delete_handler, load_event("delete_item_if_match"), CONTEXT) == error(
        ErrorCode.PRECONDITION_FAILED
    )


# --- ttl --------------------------------------------------------------------------------

BAD_TTLS = [True, False, 2.0, 1.5, "60", 0, -1, 31_536_001, 10**400, None, [60], {"s": 1}]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("ttl", BAD_TTLS, ids=repr)
def test_bad_ttl_is_invalid_ttl_on_store_and_update(ttl: object) -> None:
    assert code_of(store("k", "v", ttl=ttl)) == (400, "INVALID_TTL")
    assert code_of(update("k", "v", ttl=ttl)) == (400, "INVALID_TTL")


@pytest.mark.usefixtures("no_dynamodb")
def test_ttl_is_checked_after_key_and_value_and_every_problem_is_listed() -> None:
    status, _, body = store("bad/key", None, ttl=0)

    assert status == 400
    assert body["code"] == "INVALID_KEY"
    assert [detail["field"] for detail in body["details"]] == ["key", "value", "ttl"]
    assert code_of(update("k", "", ttl=0)) == (400, "INVALID_VALUE")


@pytest.mark.usefixtures("no_dynamodb")
def test_ttl_event_is_invalid_ttl() -> None:
    assert without_details(
        call(store_handler, load_event("store_item_invalid_ttl"), CONTEXT)
    ) == error(ErrorCode.INVALID_TTL)


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("ttl", [1, 31_536_000])
def test_ttl_bounds_are_accepted(ttl: int, clock: Callable[[int], None]) -> None:
    assert store("k", "v", ttl=ttl)[0] == 200
    assert listing()[2]["data"]["keys"][0]["expires_at"] == NOW + ttl


@pytest.mark.usefixtures("aws_tables")
def test_expired_key_is_absent_everywhere_and_can_be_stored_again(
    clock: Callable[[int], None],
) -> None:
    assert store("session", "s1", ttl=2)[0] == 200
    assert get("session")[0] == 200
    clock(NOW + 2)

    assert code_of(get("session")) == (404, "KEY_NOT_FOUND")
    assert code_of(update("session", "s2")) == (404, "KEY_NOT_FOUND")
    assert code_of(update("session", "s2", "*")) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("session")) == (404, "KEY_NOT_FOUND")
    assert listing()[2]["data"]["keys"] == []
    assert store("session", "s3")[0] == 200
    assert get("session")[2]["data"]["value"] == "s3"
    assert listing()[2]["data"]["keys"][0]["expires_at"] is None


@pytest.mark.usefixtures("aws_tables")
def test_put_without_ttl_makes_the_key_permanent_and_with_ttl_sets_it(
    clock: Callable[[int], None],
) -> None:
    store("k", "v", ttl=10)
    assert update("k", "w")[0] == 200
    assert listing()[2]["data"]["keys"][0]["expires_at"] is None
    assert update("k", "x", ttl=60)[0] == 200
    assert listing()[2]["data"]["keys"][0]["expires_at"] == NOW + 60
    clock(NOW + 1000)
    assert code_of(get("k")) == (404, "KEY_NOT_FOUND")


def test_stored_item_carries_expires_at_as_a_number(
    aws_tables: Any, clock: Callable[[int], None]
) -> None:
    call(store_handler, load_event("store_item_with_ttl"), CONTEXT)
    item = aws_tables.get_item(
        TableName="ItemsTable", Key={"user_id": {"S": ALICE}, "key": {"S": "session"}}
    )["Item"]

    assert item["expires_at"] == {"N": str(NOW + 3600)}


def test_expiry_is_rounded_up_to_a_whole_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ttl of 1 written at 100.2 expires at 102: live for at least the whole second."""
    monkeypatch.setattr(item_records.time, "time", lambda: 100.2)

    assert item_records._expiry(1) == 102
    assert item_records._epoch() == 100


# --- GET /api/data ------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_tables")
def test_listing_walks_every_key_once_in_utf8_byte_order() -> None:
    keys = ["b", "a", "ä", "Z", "a b", "😀", "ab", "\uffff", "é"]
    for key in keys:
        store(key)
    store("not mine", user=BOB)

    seen: list[str] = []
    query: dict[str, str] = {"limit": "2"}
    while True:
        status, _, body = listing(**query)
        assert status == 200
        assert set(body) == {"status", "data"}
        seen += [entry["key"] for entry in body["data"]["keys"]]
        if body["data"]["cursor"] is None:
            break
        query["cursor"] = body["data"]["cursor"]

    assert seen == sorted(keys, key=lambda key: key.encode("utf-8"))


@pytest.mark.usefixtures("aws_tables")
def test_listing_entries_carry_the_etag_of_get() -> None:
    store("a")
    _, headers, _ = get("a")

    assert listing()[2]["data"] == {
        "keys": [{"key": "a", "etag": headers["ETag"], "expires_at": None}],
        "cursor": None,
    }


@pytest.mark.usefixtures("aws_tables")
def test_prefix_limits_the_listing() -> None:
    for key in ["note 1", "note 2", "notes", "nota", "other"]:
        store(key)

    body = listing(prefix="note")[2]

    assert [entry["key"] for entry in body["data"]["keys"]] == ["note 1", "note 2", "notes"]


@pytest.mark.usefixtures("aws_tables")
def test_cursor_is_bound_to_user_and_prefix() -> None:
    for key in ["a1", "a2", "a3"]:
        store(key)
        store(key, user=BOB)
    cursor = listing(prefix="a", limit="1")[2]["data"]["cursor"]
    assert cursor

    assert listing(prefix="a", limit="1", cursor=cursor)[0] == 200
    for answer in (
        listing(BOB, prefix="a", limit="1", cursor=cursor),
        listing(prefix="", limit="1", cursor=cursor),
        listing(prefix="a1", limit="1", cursor=cursor),
    ):
        status, _, body = answer
        assert (status, body["code"]) == (400, "INVALID_PARAMETER")
        assert body["details"][0]["field"] == "cursor"


@pytest.mark.usefixtures("aws_tables")
def test_tampered_and_truncated_cursors_are_invalid_parameter() -> None:
    for key in ["a1", "a2"]:
        store(key)
    cursor = listing(limit="1")[2]["data"]["cursor"]
    payload, signature = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")

    for bad in [cursor[:-1], payload, flipped + "." + signature, cursor + "x", "", "é", "." * 3]:
        assert code_of(listing(cursor=bad)) == (400, "INVALID_PARAMETER"), bad


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("limit", ["0", "1001", "-1", "+5", "05", "1.0", "ten", "", " 5", "1e2"])
def test_bad_limit_is_invalid_parameter_naming_limit(limit: str) -> None:
    status, _, body = listing(limit=limit)

    assert (status, body["code"]) == (400, "INVALID_PARAMETER")
    assert body["details"] == [{"field": "limit", "message": body["details"][0]["message"]}]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("prefix", ["a/b", " a", "a ", "a\u0000", "x" * 257])
def test_bad_prefix_is_invalid_key_naming_prefix(prefix: str) -> None:
    status, _, body = listing(prefix=prefix, limit="0")

    assert (status, body["code"]) == (400, "INVALID_KEY")
    assert [detail["field"] for detail in body["details"]] == ["prefix", "limit"]


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("limit", ["1", "1000"])
def test_limit_bounds_are_accepted(limit: str) -> None:
    assert listing(limit=limit)[0] == 200


@pytest.mark.usefixtures("no_dynamodb")
def test_list_without_the_authorizer_context_is_invalid_token() -> None:
    event = load_event("list_items_success")
    del event["requestContext"]["authorizer"]

    assert call(list_handler, event, CONTEXT) == error(ErrorCode.INVALID_TOKEN)


@pytest.mark.usefixtures("aws_tables")
def test_list_events_answer_as_events_readme_says() -> None:
    assert call(list_handler, load_event("list_items_success"), CONTEXT)[0] == 200
    assert call(list_handler, load_event("list_items_prefix"), CONTEXT)[0] == 200
    for name, code, field in [
        ("list_items_invalid_limit", ErrorCode.INVALID_PARAMETER, "limit"),
        ("list_items_invalid_cursor", ErrorCode.INVALID_PARAMETER, "cursor"),
        ("list_items_invalid_prefix", ErrorCode.INVALID_KEY, "prefix"),
    ]:
        status, body = call(list_handler, load_event(name), CONTEXT)
        assert (status, body["code"], body["details"][0]["field"]) == (
            code.status,
            code.name,
            field,
        )


def test_one_dynamodb_request_per_page(aws_tables: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ["a", "b", "c"]:
        store(key)
    sent: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            sent.append(name)
            return getattr(aws_tables, name)

    monkeypatch.setattr(dynamodb, "client", lambda: Counting())

    listing(limit="2")

    assert sent == ["query"]


def test_an_item_written_before_versions_answers_etag_zero_and_matches_it(
    aws_tables: Any,
) -> None:
    """Items stored before ETags existed have no etag attribute: they answer "0" until
    their next write, and If-Match "0" matches them (and nothing written since)."""
    aws_tables.put_item(
        TableName="ItemsTable",
        Item={
            "user_id": {"S": ALICE},
            "key": {"S": "old"},
            "value": {"S": '"kept"'},
            "write_id": {"S": "f" * 32},
        },
    )

    assert get("old")[1]["ETag"] == '"0"'
    assert listing()[2]["data"]["keys"][0]["etag"] == '"0"'
    assert code_of(update("old", "x", '"1"')) == (412, "PRECONDITION_FAILED")
    _, headers, _ = update("old", "new", '"0"')
    assert headers["ETag"] != '"0"'
    assert code_of(delete("old", '"0"')) == (412, "PRECONDITION_FAILED")
