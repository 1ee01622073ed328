"""POST /api/data/{key}/increment against moto tables from template.yaml: exact decimal
arithmetic on the stored number's literal text, read and written over exactly that version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, with_body, with_user, without_details
from tests.handlers.items import (
    ALICE,
    BOB,
    CONTEXT,
    NOW,
    event_for_key,
    found,
    get,
    increment,
    listing,
    store,
    write_after_first_read,
)
from tests.handlers.test_concurrency import all_at_once
from tests.support import count_dynamodb_requests


def store_literal(key: str, number: str) -> None:
    """Store a number with exactly this text."""
    body = '{"key": "' + key + '", "value": ' + number + "}"
    assert (
        call(
            handler("store_item"), with_user(with_body("store_item_success", body), ALICE), CONTEXT
        )[0]
        == 200
    )


def raw_increment(key: str, body: str) -> str:
    """The raw response body of a successful increment."""
    event = event_for_key("increment_item_success", key, ALICE)
    event["body"] = body
    response = handler("increment_item")(event, CONTEXT)
    assert response["statusCode"] == 200, response["body"]
    return str(response["body"])


@pytest.mark.usefixtures("aws_tables")
def test_increment_event_counts_from_zero_and_answers_key_value_and_etag() -> None:
    """Given a fresh key, the events/ file answers 200 {"key", "value": 1} with an ETag, and
    GET then reads 1 with that ETag."""
    answer = call(handler("increment_item"), load_event("increment_item_success"), CONTEXT)

    assert answer == (200, {"status": "success", "data": {"key": "visits", "value": 1}})
    assert get("visits") == found("visits", 1)
    assert get("visits").headers["ETag"] == answer.headers["ETag"]


@pytest.mark.usefixtures("no_dynamodb")
def test_invalid_by_event_is_invalid_value() -> None:
    event = load_event("increment_item_invalid_by")

    status, body = call(handler("increment_item"), event, CONTEXT)

    assert without_details((status, body)) == error(ErrorCode.INVALID_VALUE)
    assert [detail["field"] for detail in body["details"]] == ["by"]


@pytest.mark.usefixtures("aws_tables")
def test_point_one_plus_point_two_is_point_three_in_the_raw_body() -> None:
    store_literal("sum", "0.1")

    assert raw_increment("sum", '{"by": 0.2}').endswith('"data":{"key":"sum","value":0.3}}')


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize(
    ("stored", "by", "result"),
    [
        ("1.10", "1", "2.10"),
        ("99999999999999999999999999999999", "1", "100000000000000000000000000000000"),
        ("1e400", "1e400", "2E+400"),
        ("-0", "0", "0"),
        ("5", "-7.5", "-2.5"),
        ("3.141592653589793238462643383279", "1", "4.141592653589793238462643383279"),
        ("1E+2", "1", "101"),
    ],
)
def test_arithmetic_is_exact_decimal_on_the_literal_text(stored: str, by: str, result: str) -> None:
    """Given a stored number and `by` as written, the new value is their exact decimal sum."""
    store_literal("n", stored)

    assert raw_increment("n", '{"by": ' + by + "}").endswith(f'"value":{result}}}}}')


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("body", [None, "", "{}"], ids=["no-body", "empty", "empty-object"])
def test_without_by_the_increment_is_one(body: str | None) -> None:
    store("n", 41)

    assert increment("n", body)[1]["data"]["value"] == 42


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("by", ["1", True, None, [1], {"n": 1}], ids=repr)
def test_a_by_that_is_not_a_json_number_is_invalid_value(by: object) -> None:
    status, body = increment("n", {"by": by})

    assert (status, body["code"]) == (400, "INVALID_VALUE")
    assert [detail["field"] for detail in body["details"]] == ["by"]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("body", ["[1]", '"1"', "not json", "1"])
def test_a_body_that_is_not_a_json_object_is_invalid_request(body: str) -> None:
    assert without_details(increment("n", body)) == error(ErrorCode.INVALID_REQUEST)


@pytest.mark.usefixtures("no_dynamodb")
def test_a_bad_path_key_is_invalid_key_before_the_body() -> None:
    assert without_details(increment(" padded", "[1]")) == error(ErrorCode.INVALID_KEY)


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("value", ["5", True, {"n": 1}, [1]], ids=repr)
def test_a_stored_value_that_is_not_a_number_is_value_not_a_number_and_unchanged(
    value: object,
) -> None:
    store("n", value)

    assert increment("n", {"by": 1}) == error(ErrorCode.VALUE_NOT_A_NUMBER)
    assert get("n") == found("n", value)


@pytest.mark.usefixtures("aws_tables")
def test_a_result_longer_than_a_value_may_be_is_invalid_value() -> None:
    """Given 1e100000 stored, adding 1 would need 100,001 digits: INVALID_VALUE, unchanged."""
    store_literal("n", "1e100000")

    status, body = increment("n", {"by": 1})

    assert (status, body["code"]) == (400, "INVALID_VALUE")
    stored = handler("get_item")(event_for_key("get_item_success", "n", ALICE), CONTEXT)
    assert '"value":1e100000,' in stored["body"]


@pytest.mark.usefixtures("aws_tables", "clock")
def test_an_absent_key_starts_from_zero_without_expiry_or_metadata() -> None:
    assert increment("fresh", {"by": 2.5})[1]["data"]["value"] == 2.5
    assert listing()[1]["data"]["keys"][0]["expires_at"] is None
    assert get("fresh")[1]["data"]["metadata"] is None


@pytest.mark.usefixtures("aws_tables", "clock")
def test_an_existing_key_keeps_its_expiry_and_metadata() -> None:
    store("n", 1, ttl=60, metadata={"unit": "visits"})
    before = listing()[1]["data"]["keys"][0]

    increment("n", {"by": 1})

    after = listing()[1]["data"]["keys"][0]
    assert (after["expires_at"], after["metadata"]) == (NOW + 60, {"unit": "visits"})
    assert after["etag"] != before["etag"]


@pytest.mark.usefixtures("aws_tables")
def test_an_expired_key_starts_again_from_zero(clock: Callable[[int], None]) -> None:
    store("n", 10, ttl=5)
    clock(NOW + 5)

    assert increment("n", {"by": 1})[1]["data"]["value"] == 1
    assert listing()[1]["data"]["keys"][0]["expires_at"] is None


@pytest.mark.usefixtures("aws_tables")
def test_another_users_key_of_that_name_is_untouched() -> None:
    """Given Alice's counter at 10, Bob's increment of that name starts his own from 0."""
    store("n", 10)

    assert increment("n", {"by": 1}, user=BOB)[1]["data"]["value"] == 1
    assert get("n") == found("n", 10)


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize(("exists", "write"), [(True, "UpdateItem"), (False, "PutItem")])
def test_an_increment_without_conflict_is_two_requests(exists: bool, write: str) -> None:
    if exists:
        store("n", 1)
    made = count_dynamodb_requests()

    increment("n")

    assert made == Counter({"GetItem": 1, write: 1})


@pytest.mark.usefixtures("aws_tables")
def test_a_write_between_the_read_and_the_write_is_read_again_and_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given another write lands between this call's read and its write, the call reads
    again and adds to the new number: the other write is not lost."""
    store("n", 1)
    reads = write_after_first_read(monkeypatch, "100")

    assert increment("n", {"by": 1})[1]["data"]["value"] == 101
    assert len(reads) == 2


@pytest.mark.usefixtures("aws_tables", "atomic_moto")
def test_20_parallel_increments_of_a_fresh_key_answer_1_to_20() -> None:
    answers = all_at_once(lambda index: (increment("par")[1]["data"]["value"], None))

    assert sorted(value for value, _ in answers.elements()) == list(range(1, 21))
    assert get("par") == found("par", 20)
