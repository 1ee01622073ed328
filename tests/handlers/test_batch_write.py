"""POST /api/batch/write against moto tables from template.yaml: up to 100 operations, all
or nothing in one TransactWriteItems, refusals mapped to the first failing operation."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, without_details
from tests.handlers.items import BOB, CONTEXT, NOW, batch_write, found, get, listing, store
from tests.support import count_dynamodb_requests

APPLIED = "Batch applied successfully."


def fields(answer: Any) -> list[str]:
    return [detail["field"] for detail in answer[1]["details"]]


@pytest.mark.usefixtures("aws_tables")
def test_batch_write_event_applies_every_operation() -> None:
    """Given notes stored, the events/ file stores one key, updates notes and deletes none
    of Alice's others: 200 with each key's new etag (null for a delete)."""
    call(handler("store_item"), load_event("store_item_success"), CONTEXT)
    store("old", 1)

    status, body = call(handler("batch_write"), load_event("batch_write_success"), CONTEXT)

    assert (status, body["message"]) == (200, APPLIED)
    results = body["data"]["results"]
    assert [result["key"] for result in results] == ["groceries", "notes", "old"]
    assert results[0]["etag"] == get("groceries").headers["ETag"]
    assert results[1]["etag"] == get("notes").headers["ETag"]
    assert results[2]["etag"] is None
    assert get("groceries") == found("groceries", ["milk"])
    assert get("old") == error(ErrorCode.KEY_NOT_FOUND)


@pytest.mark.usefixtures("aws_tables")
def test_key_exists_event_names_the_third_operation_and_writes_nothing() -> None:
    call(handler("store_item"), load_event("store_item_success"), CONTEXT)
    store("old", 1)

    answer = call(handler("batch_write"), load_event("batch_write_key_exists"), CONTEXT)

    assert without_details(answer) == error(ErrorCode.KEY_EXISTS)
    assert fields(answer) == ["operations[2]"]
    assert get("fresh") == error(ErrorCode.KEY_NOT_FOUND)
    assert get("old") == found("old", 1)


@pytest.mark.usefixtures("aws_tables")
def test_a_batch_whose_third_operation_fails_writes_nothing() -> None:
    """Given a batch of a store, an update and a store of an existing key, KEY_EXISTS naming
    operations[2], and neither the first store nor the update happened."""
    store("taken", "kept")
    store("u", "before")

    answer = batch_write(
        [
            {"op": "store", "key": "new", "value": 1},
            {"op": "update", "key": "u", "value": "after"},
            {"op": "store", "key": "taken", "value": 2},
        ]
    )

    assert without_details(answer) == error(ErrorCode.KEY_EXISTS)
    assert fields(answer) == ["operations[2]"]
    assert get("new") == error(ErrorCode.KEY_NOT_FOUND)
    assert get("u") == found("u", "before")
    assert get("taken") == found("taken", "kept")


@pytest.mark.usefixtures("aws_tables")
def test_the_first_failing_operation_decides_and_every_failing_one_is_named() -> None:
    """Given a delete of an absent key, a stale If-Match and an update of an absent key,
    KEY_NOT_FOUND (operations[0]'s), every one named, and nothing changed."""
    tag = store("v", 1).headers["ETag"]

    answer = batch_write(
        [
            {"op": "delete", "key": "absent"},
            {"op": "update", "key": "v", "value": 3, "if_match": '"stale"'},
            {"op": "update", "key": "v2", "value": 3},
        ]
    )

    assert without_details(answer) == error(ErrorCode.KEY_NOT_FOUND)
    assert fields(answer) == ["operations[0]", "operations[1]", "operations[2]"]
    assert get("v").headers["ETag"] == tag


@pytest.mark.usefixtures("aws_tables")
def test_if_match_of_another_version_is_precondition_failed() -> None:
    store("v", 1)

    answer = batch_write([{"op": "delete", "key": "v", "if_match": '"other"'}])

    assert without_details(answer) == error(ErrorCode.PRECONDITION_FAILED)
    assert get("v") == found("v", 1)


@pytest.mark.usefixtures("aws_tables")
def test_if_match_of_the_current_version_and_star_apply() -> None:
    tag = store("v", 1).headers["ETag"]
    store("w", 1)

    answer = batch_write(
        [
            {"op": "update", "key": "v", "value": 2, "if_match": tag},
            {"op": "delete", "key": "w", "if_match": "*"},
        ]
    )

    assert answer[0] == 200
    assert get("v") == found("v", 2)


@pytest.mark.usefixtures("aws_tables", "clock")
def test_store_and_update_take_ttl_and_metadata_as_the_single_calls() -> None:
    store("u", 1, ttl=60, metadata={"a": 1})

    batch_write(
        [
            {"op": "store", "key": "s", "value": 1, "ttl": 30, "metadata": {"m": 1}},
            {"op": "update", "key": "u", "value": 2},
        ]
    )

    entries = {entry["key"]: entry for entry in listing()[1]["data"]["keys"]}
    assert (entries["s"]["expires_at"], entries["s"]["metadata"]) == (NOW + 30, {"m": 1})
    assert (entries["u"]["expires_at"], entries["u"]["metadata"]) == (None, None)


@pytest.mark.usefixtures("aws_tables")
def test_another_users_key_is_key_not_found() -> None:
    store("mine", 1)

    answer = batch_write([{"op": "delete", "key": "mine"}], user=BOB)

    assert without_details(answer) == error(ErrorCode.KEY_NOT_FOUND)
    assert get("mine") == found("mine", 1)


@pytest.mark.usefixtures("aws_tables")
def test_100_operations_are_one_transaction() -> None:
    made = count_dynamodb_requests()

    answer = batch_write(
        [{"op": "store", "key": f"k{index}", "value": index} for index in range(100)]
    )

    assert answer[0] == 200
    assert made == Counter({"TransactWriteItems": 1})
    assert get("k99") == found("k99", 99)


MALFORMED = [
    pytest.param({}, id="missing"),
    pytest.param({"operations": {}}, id="not-a-list"),
    pytest.param({"operations": []}, id="empty"),
    pytest.param({"operations": [{"op": "delete", "key": f"k{i}"} for i in range(101)]}, id="101"),
    pytest.param({"operations": ["store"]}, id="not-an-object"),
    pytest.param({"operations": [{"key": "a", "value": 1}]}, id="no-op"),
    pytest.param({"operations": [{"op": "upsert", "key": "a", "value": 1}]}, id="unknown-op"),
    pytest.param(
        {"operations": [{"op": "delete", "key": "a"}, {"op": "store", "key": "a", "value": 1}]},
        id="one-key-twice",
    ),
]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("body", MALFORMED)
def test_a_malformed_batch_is_invalid_request(body: dict[str, Any]) -> None:
    assert without_details(batch_write(body)) == error(ErrorCode.INVALID_REQUEST)


@pytest.mark.usefixtures("no_dynamodb")
def test_the_batch_is_checked_as_a_whole_before_each_operation() -> None:
    """Given a bad key in operations[0] and an unknown op in operations[1], INVALID_REQUEST."""
    answer = batch_write([{"op": "store", "key": "a/b", "value": 1}, {"op": "x", "key": "b"}])

    assert without_details(answer) == error(ErrorCode.INVALID_REQUEST)
    assert fields(answer) == ["operations[1]"]


@pytest.mark.usefixtures("no_dynamodb")
def test_each_operation_gets_the_single_calls_codes_in_list_order() -> None:
    """Given a bad ttl in operations[0] and a bad key in operations[2], the first failing
    operation's code decides (INVALID_TTL), and details name both."""
    answer = batch_write(
        [
            {"op": "store", "key": "a", "value": 1, "ttl": 0},
            {"op": "delete", "key": "b"},
            {"op": "update", "key": " c", "value": 1, "metadata": []},
        ]
    )

    assert without_details(answer) == error(ErrorCode.INVALID_TTL)
    assert fields(answer) == ["operations[0]", "operations[2]", "operations[2]"]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ({"op": "store", "key": "a"}, ErrorCode.INVALID_VALUE),
        ({"op": "update", "key": "a", "value": ""}, ErrorCode.INVALID_VALUE),
        ({"op": "store", "key": "a", "value": 1, "metadata": "m"}, ErrorCode.INVALID_METADATA),
        ({"op": "delete", "key": ""}, ErrorCode.INVALID_KEY),
    ],
)
def test_an_operation_breaking_a_single_call_rule_answers_its_code(
    operation: dict[str, Any], code: ErrorCode
) -> None:
    answer = batch_write([operation])

    assert without_details(answer) == error(code)
    assert fields(answer) == ["operations[0]"]
