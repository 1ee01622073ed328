"""POST /api/batch/get against moto tables from template.yaml: up to 100 keys in one
BatchGetItem, only unprocessed keys asked again, absent, expired and foreign keys missing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from lockbox.core import dynamodb, responses
from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, with_user, without_details
from tests.handlers.items import ALICE, BOB, CONTEXT, NOW, batch_get, get, store
from tests.support import count_dynamodb_requests


def entry(key: str, value: object, etag: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "etag": etag, "expires_at": None, "metadata": None} | fields


@pytest.mark.usefixtures("aws_tables")
def test_batch_get_event_answers_items_in_order_and_the_missing_key() -> None:
    """Given notes and "café menu" stored, the events/ file answers both, in the order asked,
    with their etags, and "never stored" as missing."""
    call(handler("store_item"), load_event("store_item_success"), CONTEXT)
    call(handler("store_item"), load_event("store_item_unicode"), CONTEXT)
    notes, cafe = get("notes"), get("café menu")

    status, body = call(handler("batch_get"), load_event("batch_get_success"), CONTEXT)

    assert status == 200
    assert body == {
        "status": "success",
        "data": {
            "items": [
                entry("notes", notes[1]["data"]["value"], notes.headers["ETag"]),
                entry("café menu", cafe[1]["data"]["value"], cafe.headers["ETag"]),
            ],
            "missing": ["never stored"],
        },
    }


@pytest.mark.usefixtures("no_dynamodb")
def test_duplicate_keys_event_is_invalid_request() -> None:
    status, body = call(handler("batch_get"), load_event("batch_get_duplicate_keys"), CONTEXT)

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [detail["field"] for detail in body["details"]] == ["keys"]


@pytest.mark.usefixtures("aws_tables", "clock")
def test_items_carry_expiry_and_metadata_and_expired_keys_are_missing(
    clock: Callable[[int], None],
) -> None:
    store("soon", 1, ttl=5, metadata={"m": 1})
    store("later", 2, ttl=60)
    clock(NOW + 5)

    data = batch_get(["soon", "later"])[1]["data"]

    assert [(item["key"], item["expires_at"]) for item in data["items"]] == [("later", NOW + 60)]
    assert data["missing"] == ["soon"]


@pytest.mark.usefixtures("aws_tables")
def test_metadata_and_exact_numbers_come_back() -> None:
    store("k", 1, metadata={"tag": "x"})

    assert batch_get(["k"])[1]["data"]["items"][0]["metadata"] == {"tag": "x"}


@pytest.mark.usefixtures("aws_tables")
def test_another_users_keys_are_missing() -> None:
    store("mine", 1)

    assert batch_get(["mine"], user=BOB)[1]["data"] == {"items": [], "missing": ["mine"]}


@pytest.mark.usefixtures("aws_tables")
def test_100_keys_are_one_batch_get_item() -> None:
    keys = [f"k{index:03d}" for index in range(100)]
    for key in keys[::2]:
        store(key, key)
    made = count_dynamodb_requests()

    data = batch_get(keys)[1]["data"]

    assert [item["key"] for item in data["items"]] == keys[::2]
    assert data["missing"] == keys[1::2]
    assert made == Counter({"BatchGetItem": 1})


@pytest.mark.usefixtures("aws_tables")
def test_only_unprocessed_keys_are_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given DynamoDB leaves two keys unprocessed once, the second request asks only those
    two, and the answer holds all three."""
    for key in ("a", "b", "c"):
        store(key, key)
    client = dynamodb.client()
    real = client.batch_get_item
    asked: list[list[str]] = []

    def leave_two_unprocessed(**kwargs: Any) -> Any:
        (table,) = kwargs["RequestItems"]
        request = kwargs["RequestItems"][table]
        asked.append([key["key"]["S"] for key in request["Keys"]])
        if len(asked) > 1:
            return real(**kwargs)
        first = real(RequestItems={table: {**request, "Keys": request["Keys"][:1]}})
        return {**first, "UnprocessedKeys": {table: {**request, "Keys": request["Keys"][1:]}}}

    monkeypatch.setattr(client, "batch_get_item", leave_two_unprocessed)
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)

    data = batch_get(["a", "b", "c"])[1]["data"]

    assert asked == [["a", "b", "c"], ["b", "c"]]
    assert [item["key"] for item in data["items"]] == ["a", "b", "c"]


@pytest.mark.usefixtures("aws_tables")
def test_keys_unprocessed_round_after_round_are_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    client = dynamodb.client()

    def never_processed(**kwargs: Any) -> Any:
        return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    monkeypatch.setattr(client, "batch_get_item", never_processed)
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)

    assert batch_get(["a"]) == error(ErrorCode.INTERNAL_ERROR)


BAD_LISTS = [
    pytest.param({}, id="missing"),
    pytest.param({"keys": "a"}, id="not-a-list"),
    pytest.param({"keys": []}, id="empty"),
    pytest.param({"keys": [f"k{index}" for index in range(101)]}, id="101-keys"),
    pytest.param({"keys": ["a", "b", "a"]}, id="duplicated"),
    pytest.param("[1]", id="body-not-an-object"),
]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("body", BAD_LISTS)
def test_a_missing_empty_oversized_or_duplicated_list_is_invalid_request(body: object) -> None:
    assert without_details(batch_get(body)) == error(ErrorCode.INVALID_REQUEST)


@pytest.mark.usefixtures("no_dynamodb")
def test_bad_keys_are_invalid_key_naming_each_position() -> None:
    status, body = batch_get(["good", "a/b", 7, " x", "\ufffd"])

    assert (status, body["code"]) == (400, "INVALID_KEY")
    assert [detail["field"] for detail in body["details"]] == [
        "keys[1]",
        "keys[2]",
        "keys[3]",
        "keys[4]",
    ]


@pytest.mark.usefixtures("no_dynamodb")
def test_the_list_is_checked_before_its_keys() -> None:
    """Given a duplicated list that also holds a bad key, INVALID_REQUEST decides."""
    assert without_details(batch_get(["a/b", "a/b"])) == error(ErrorCode.INVALID_REQUEST)


LAMBDA_RESPONSE_LIMIT = 6_291_556  # bytes of the function's whole JSON answer


@pytest.mark.usefixtures("aws_tables")
def test_an_answer_over_the_response_limit_is_invalid_request_naming_what_fits() -> None:
    """Given 100 keys of values near the 64 KiB limit (6.5 MB together, over Lambda's 6 MB
    response), the batch answers 400 INVALID_REQUEST naming keys and how many of the first
    keys fit; those keys, then the rest, are each answered whole under the limit."""
    keys = [f"big{index:03d}" for index in range(100)]
    value = "x" * 65_000
    for key in keys:
        store(key, value)

    status, body = batch_get(keys)

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    ((detail,),) = [body["details"]]
    assert detail["field"] == "keys"
    fit = int(detail["message"].split("(the first ")[1].split(" ")[0])
    assert 0 < fit < 100
    for part in (keys[:fit], keys[fit:]):
        event = with_user(load_event("batch_get_success"), ALICE)
        event["body"] = json.dumps({"keys": part})
        response = handler("batch_get")(event, CONTEXT)
        assert response["statusCode"] == 200
        assert len(json.dumps(response).encode()) < LAMBDA_RESPONSE_LIMIT
        items = json.loads(response["body"])["data"]["items"]
        assert [(item["key"], item["value"]) for item in items] == [(key, value) for key in part]


@pytest.mark.usefixtures("aws_tables")
def test_the_bound_counts_quotes_as_lambda_escapes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a bound of 200,000 bytes and 3 values of 20,000 quote characters (40 KB of JSON
    each, 120 KB of body, 240 KB once Lambda escapes the body's quotes and backslashes
    again), the answer is refused: the body is measured as Lambda's response holds it; 2 of
    them fit."""
    monkeypatch.setattr(responses, "MAX_BODY_BYTES", 200_000)
    for key in ("a", "b", "c"):
        store(key, '"' * 20_000)

    assert batch_get(["a", "b", "c"])[0] == 400
    assert batch_get(["a", "b"])[0] == 200
