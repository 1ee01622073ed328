"""The /api/data handlers (store, get, update, delete) against moto tables from template.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.responses import to_json
from lockbox.items import item_records
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, with_body, with_user, without_details
from tests.handlers.items import (
    ALICE,
    BOB,
    CONTEXT,
    DELETED,
    NOW,
    STORED,
    UPDATED,
    delete,
    event_for_key,
    found,
    get,
    listing,
    store,
    update,
    with_if_match,
)
from tests.support import count_dynamodb_requests

# --- the events/ files as they are -------------------------------------------------------------


def test_store_event_answers_stored(aws_tables: Any, lambda_context: Any) -> None:
    """Given the store event, when handled, then 200 with the message and no data."""
    assert call(handler("store_item"), load_event("store_item_success"), lambda_context) == STORED


def test_get_event_answers_key_and_value_without_message(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given the stored sample item, GET answers key and value, no message."""
    call(handler("store_item"), load_event("store_item_success"), lambda_context)

    result = call(handler("get_item"), load_event("get_item_success"), lambda_context)

    assert result == found(
        "notes", {"text": "buy milk", "tags": ["home", "errands"], "done": False}
    )


def test_update_event_replaces_the_value(aws_tables: Any, lambda_context: Any) -> None:
    """Given the sample item, PUT replaces its value, as GET then shows."""
    call(handler("store_item"), load_event("store_item_success"), lambda_context)

    assert (
        call(handler("update_item"), load_event("update_item_success"), lambda_context) == UPDATED
    )
    assert call(handler("get_item"), load_event("get_item_success"), lambda_context) == found(
        "notes", {"text": "buy oat milk", "tags": ["home"], "done": True}
    )


def test_delete_event_then_get_is_key_not_found(aws_tables: Any, lambda_context: Any) -> None:
    """Given the sample item deleted, GET is KEY_NOT_FOUND."""
    call(handler("store_item"), load_event("store_item_success"), lambda_context)

    assert (
        call(handler("delete_item"), load_event("delete_item_success"), lambda_context) == DELETED
    )
    assert call(handler("get_item"), load_event("get_item_success"), lambda_context) == error(
        ErrorCode.KEY_NOT_FOUND
    )


def test_unicode_key_event_reads_the_decoded_key(aws_tables: Any, lambda_context: Any) -> None:
    """Given "café menu" stored, the GET whose path is caf%C3%A9%20menu finds it."""
    call(handler("store_item"), load_event("store_item_unicode"), lambda_context)

    result = call(handler("get_item"), load_event("get_item_unicode_key"), lambda_context)

    assert result == found("café menu", "crème brûlée, 🍰 <script>alert(1)</script>")


def test_get_missing_key_event(aws_tables: Any, lambda_context: Any) -> None:
    """Given events/get_item_not_found.json, KEY_NOT_FOUND."""
    assert call(handler("get_item"), load_event("get_item_not_found"), lambda_context) == error(
        ErrorCode.KEY_NOT_FOUND
    )


@pytest.mark.parametrize(
    ("handler_name", "event_name", "code", "field"),
    [
        ("store", "store_item_invalid_key", ErrorCode.INVALID_KEY, "key"),
        ("store", "store_item_null_value", ErrorCode.INVALID_VALUE, "value"),
        ("store", "store_item_missing_value", ErrorCode.INVALID_VALUE, "value"),
        ("update", "update_item_invalid_value", ErrorCode.INVALID_VALUE, "value"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_invalid_events_answer_their_code(
    lambda_context: Any,
    handler_name: str,
    event_name: str,
    code: ErrorCode,
    field: str,
) -> None:
    """Given an invalid events/ file, its code, with the field in details."""
    function = {"store": handler("store_item"), "update": handler("update_item")}[handler_name]

    status, body = call(function, load_event(event_name), lambda_context)

    assert without_details((status, body)) == error(code)
    assert [problem["field"] for problem in body["details"]] == [field]


# --- values round-trip exactly -------------------------------------------------------------------

VALUES = [
    pytest.param("plain text", id="string"),
    pytest.param("<script>alert(1)</script>", id="script-tag"),
    pytest.param("café ☕ 🔑 日本語", id="unicode"),
    pytest.param('quote " backslash \\ newline \n tab \t nul \x00', id="escapes"),
    pytest.param(" ", id="single-space"),
    pytest.param(0, id="zero"),
    pytest.param(-42, id="negative-int"),
    pytest.param(2**64 + 1, id="big-int"),
    pytest.param(-(10**40), id="huge-negative-int"),
    pytest.param(3.141592653589793, id="float"),
    pytest.param(1.0, id="float-one"),
    pytest.param(-0.0, id="negative-zero"),
    pytest.param(1e-7, id="small-float"),
    pytest.param(1.7976931348623157e308, id="max-float"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param([], id="empty-array"),
    pytest.param({}, id="empty-object"),
    pytest.param([1, "two", None, False, {"five": [5.5]}], id="mixed-array"),
    pytest.param({"z": 1, "a": {"nested": {"deep": ["x", {"y": None}]}}}, id="nested-object"),
    pytest.param({"": "empty key", "k": ""}, id="empty-strings-inside"),
]


@pytest.mark.parametrize("value", VALUES)
def test_values_round_trip_exactly(aws_tables: Any, lambda_context: Any, value: object) -> None:
    """Given any JSON value stored, GET returns the very same JSON (types, order, text)."""
    assert store("v", value, context=lambda_context) == STORED

    status, body = get("v", context=lambda_context)

    assert status == 200
    assert to_json(body["data"]["value"]) == to_json(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("<script>alert(1)</script>", id="script-tag"),
        pytest.param(2**64 + 1, id="big-int"),
        pytest.param({"z": [1, {"a": None}], "é": False}, id="nested-object"),
    ],
)
def test_updated_values_round_trip_exactly(
    aws_tables: Any, lambda_context: Any, value: object
) -> None:
    """Given a value replaced by PUT, GET returns the new value exactly."""
    store("v", "before", context=lambda_context)

    assert update("v", value, context=lambda_context) == UPDATED
    assert to_json(get("v", context=lambda_context)[1]["data"]["value"]) == to_json(value)


def test_string_is_returned_byte_for_byte_in_the_raw_body(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given markup and Unicode in a string, the raw response body has it verbatim."""
    value = "<b>é</b> 🔑"
    store("v", value, context=lambda_context)

    response = handler("get_item")(event_for_key("get_item_success", "v", ALICE), lambda_context)

    assert '"value":"<b>é</b> 🔑"' in response["body"]


EXACT_NUMBERS = "[3.141592653589793238462643383279,1.5e-400,1e400,-0,1E+2,2.50]"


def test_numbers_keep_their_literal_text_through_store_and_get(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given numbers a double would change (SPEC.md's list), stored then read, the raw
    response body has exactly the characters sent."""
    event = with_user(
        with_body("store_item_success", '{"key": "n", "value": ' + EXACT_NUMBERS + "}"), ALICE
    )
    assert call(handler("store_item"), event, lambda_context) == STORED

    response = handler("get_item")(event_for_key("get_item_success", "n", ALICE), lambda_context)

    assert '"value":' + EXACT_NUMBERS + ',"metadata":null}' in response["body"]


def test_numbers_keep_their_literal_text_through_update(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a PUT with exact numbers, the next GET answers them as sent."""
    store("n", 1, context=lambda_context)
    event = event_for_key("update_item_success", "n", ALICE)
    event["body"] = '{"value": {"pi": 3.141592653589793238462643383279, "z": -0}}'
    assert call(handler("update_item"), event, lambda_context) == UPDATED

    response = handler("get_item")(event_for_key("get_item_success", "n", ALICE), lambda_context)

    assert '"value":{"pi":3.141592653589793238462643383279,"z":-0}' in response["body"]


def test_deeply_nested_value_within_parser_limits_round_trips(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a value nested 500 levels deep, it round-trips."""
    value: object = "bottom"
    for _ in range(500):
        value = [value]

    assert store("deep", value, context=lambda_context) == STORED
    assert get("deep", context=lambda_context)[1]["data"]["value"] == value


def test_value_of_exactly_the_limit_is_stored_and_one_more_byte_is_not(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given MAX_VALUE_BYTES=65536, a 65536-byte JSON value is stored; 65537 is INVALID_VALUE."""
    exactly = "é" * 32767  # 2 quotes + 32767 * 2 bytes = 65536

    assert store("big", exactly, context=lambda_context) == STORED
    assert without_details(store("bigger", exactly + "a", context=lambda_context)) == error(
        ErrorCode.INVALID_VALUE
    )
    assert get("big", context=lambda_context) == found("big", exactly)


@pytest.mark.parametrize(
    ("raw_value", "code"),
    [
        pytest.param("null", ErrorCode.INVALID_VALUE, id="null"),
        pytest.param('""', ErrorCode.INVALID_VALUE, id="empty-string"),
        pytest.param('{"a": 1, "a": 2}', ErrorCode.INVALID_VALUE, id="duplicate-member"),
        pytest.param('[{"b": {"a": 1, "a": 1}}]', ErrorCode.INVALID_VALUE, id="nested-duplicate"),
        pytest.param('"\\ud800"', ErrorCode.INVALID_VALUE, id="lone-surrogate"),
        pytest.param("NaN", ErrorCode.INVALID_REQUEST, id="nan"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_unstorable_values_are_refused(
    lambda_context: Any, raw_value: str, code: ErrorCode
) -> None:
    """Given null, "", a duplicated member name, a lone surrogate or NaN as value, refused
    and nothing stored."""
    event = with_body("store_item_success", '{"key": "k", "value": ' + raw_value + "}")

    assert without_details(call(handler("store_item"), event, lambda_context)) == error(code)


def test_integer_of_5000_digits_is_a_json_value_not_an_invalid_request(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a valid JSON object whose value is a 5000-digit integer (5 KB, within 64 KiB),
    the store either keeps it exactly or refuses the value; it is not "not a JSON object"."""
    digits = "9" * 5000
    event = with_body("store_item_success", '{"key": "big-number", "value": ' + digits + "}")

    status, body = call(handler("store_item"), event, lambda_context)

    assert (status, body.get("code")) in {(200, None), (400, "INVALID_VALUE")}
    if status == 200:
        response = handler("get_item")(
            event_for_key("get_item_success", "big-number", ALICE), lambda_context
        )
        assert '"value":' + digits + ',"metadata":null}' in response["body"]


@pytest.mark.parametrize("handler_name", ["store", "update"])
@pytest.mark.usefixtures("no_dynamodb")
def test_value_nested_100000_levels_is_invalid_value(
    lambda_context: Any, handler_name: str
) -> None:
    """Given a value nested deeper than the parser goes, INVALID_VALUE (and no RecursionError)."""
    deep = "[" * 100_000 + "]" * 100_000
    if handler_name == "store":
        function, event = handler("store_item"), load_event("store_item_success")
        event["body"] = '{"key": "deep", "value": ' + deep + "}"
    else:
        function, event = handler("update_item"), load_event("update_item_success")
        event["body"] = '{"value": ' + deep + "}"

    assert call(function, event, lambda_context) == error(ErrorCode.INVALID_VALUE)


@pytest.mark.usefixtures("no_dynamodb")
def test_deeply_nested_array_body_is_invalid_request(lambda_context: Any) -> None:
    """Given a body that is an array (100000 levels deep), INVALID_REQUEST as for any array."""
    event = with_body("store_item_success", "[" * 100_000 + "]" * 100_000)

    assert call(handler("store_item"), event, lambda_context) == error(ErrorCode.INVALID_REQUEST)


# --- store ---------------------------------------------------------------------------------------


def test_storing_an_existing_key_is_key_exists_and_keeps_the_value(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a key stored, storing it again is KEY_EXISTS and the first value stays."""
    store("k", "first", context=lambda_context)

    assert store("k", "second", context=lambda_context) == error(ErrorCode.KEY_EXISTS)
    assert get("k", context=lambda_context) == found("k", "first")


def test_keys_are_case_sensitive(aws_tables: Any, lambda_context: Any) -> None:
    """Given Notes stored, notes is another key."""
    store("Notes", 1, context=lambda_context)

    assert store("notes", 2, context=lambda_context) == STORED
    assert get("Notes", context=lambda_context) == found("Notes", 1)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("a/b", id="slash"),
        pytest.param(" padded ", id="outer-spaces"),
        pytest.param("tab\there", id="control"),
        pytest.param("k" * 257, id="257-bytes"),
        pytest.param(42, id="number"),
        pytest.param(None, id="null"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_store_with_invalid_key(lambda_context: Any, key: object) -> None:
    """Given an invalid key in the store body, INVALID_KEY."""
    result = store(key, "v", context=lambda_context)  # type: ignore[arg-type]

    assert without_details(result) == error(ErrorCode.INVALID_KEY)


def test_store_key_of_256_bytes(aws_tables: Any, lambda_context: Any) -> None:
    """Given a key of 64 emoji (256 bytes), it is stored and read back."""
    key = "🔑" * 64

    assert store(key, "v", context=lambda_context) == STORED
    assert get(key, context=lambda_context) == found(key, "v")


def test_store_ignores_a_user_id_in_the_body(aws_tables: Any, lambda_context: Any) -> None:
    """Given a body naming another user, the item is stored under the authorizer's user."""
    event = with_body("store_item_success", {"key": "k", "value": 1, "user_id": BOB})

    call(handler("store_item"), event, lambda_context)

    owners = {item["user_id"]["S"] for item in aws_tables.scan(TableName="ItemsTable")["Items"]}
    assert owners == {ALICE}


@pytest.mark.usefixtures("no_dynamodb")
def test_store_body_not_an_object_is_invalid_request(lambda_context: Any) -> None:
    """Given an array body, INVALID_REQUEST."""
    event = with_body("store_item_success", '["notes", "buy milk"]')

    assert call(handler("store_item"), event, lambda_context) == error(ErrorCode.INVALID_REQUEST)


# --- get / update / delete -----------------------------------------------------------------------


def test_key_is_not_decoded_a_second_time(aws_tables: Any, lambda_context: Any) -> None:
    """Given the key "50%2F50" stored, the GET whose pathParameters hold it finds it as is."""
    store("50%2F50", "half", context=lambda_context)

    assert get("50%2F50", context=lambda_context) == found("50%2F50", "half")


@pytest.mark.parametrize("handler_name", ["get", "delete"])
@pytest.mark.parametrize("key", ["a/b", " lead", "nul\x00", ""])
@pytest.mark.usefixtures("no_dynamodb")
def test_invalid_path_key_is_invalid_key(lambda_context: Any, handler_name: str, key: str) -> None:
    """Given an invalid key in the path, GET and DELETE answer INVALID_KEY."""
    operation = {"get": get, "delete": delete}[handler_name]

    assert without_details(operation(key, context=lambda_context)) == error(ErrorCode.INVALID_KEY)


@pytest.mark.parametrize("body", ["{not json", "[1]", "", None])
@pytest.mark.usefixtures("no_dynamodb")
def test_put_checks_the_path_key_before_the_body(lambda_context: Any, body: str | None) -> None:
    """Given PUT /api/data/%20lead with a body that is not a JSON object, the key's form is
    checked first (SPEC.md's check order): INVALID_KEY, not INVALID_REQUEST."""
    event = event_for_key("update_item_success", " lead", ALICE)
    event["body"] = body

    assert without_details(call(handler("update_item"), event, lambda_context)) == error(
        ErrorCode.INVALID_KEY
    )


@pytest.mark.parametrize(
    "event_name", ["get_item_success", "update_item_success", "delete_item_success"]
)
@pytest.mark.usefixtures("no_dynamodb")
def test_missing_path_parameters_is_invalid_key(lambda_context: Any, event_name: str) -> None:
    """Given no pathParameters on a {key} route, INVALID_KEY."""
    event = load_event(event_name)
    event["pathParameters"] = None
    function = {
        "get_item_success": handler("get_item"),
        "update_item_success": handler("update_item"),
        "delete_item_success": handler("delete_item"),
    }[event_name]

    assert without_details(call(function, event, lambda_context)) == error(ErrorCode.INVALID_KEY)


def test_update_missing_key_is_key_not_found(aws_tables: Any, lambda_context: Any) -> None:
    """Given a key never stored, PUT is KEY_NOT_FOUND and creates nothing."""
    assert update("absent", "v", context=lambda_context) == error(ErrorCode.KEY_NOT_FOUND)
    assert aws_tables.scan(TableName="ItemsTable")["Items"] == []


@pytest.mark.usefixtures("no_dynamodb")
def test_update_checks_the_value_before_existence(lambda_context: Any) -> None:
    """Given a missing key and an empty value, INVALID_VALUE (not KEY_NOT_FOUND)."""
    result = update("absent", "", context=lambda_context)

    assert without_details(result) == error(ErrorCode.INVALID_VALUE)


@pytest.mark.parametrize("bad_value", [None, ""])
def test_update_with_bad_value_keeps_the_old_value(
    aws_tables: Any, lambda_context: Any, bad_value: object
) -> None:
    """Given a refused PUT, the stored value is unchanged."""
    store("k", "kept", context=lambda_context)

    assert without_details(update("k", bad_value, context=lambda_context)) == error(
        ErrorCode.INVALID_VALUE
    )
    assert get("k", context=lambda_context) == found("k", "kept")


@pytest.mark.usefixtures("no_dynamodb")
def test_update_checks_the_key_before_the_value(lambda_context: Any) -> None:
    """Given a bad key and a null value, INVALID_KEY."""
    assert without_details(update("a/b", None, context=lambda_context)) == error(
        ErrorCode.INVALID_KEY
    )


@pytest.mark.usefixtures("no_dynamodb")
def test_update_body_not_an_object_is_invalid_request(lambda_context: Any) -> None:
    """Given a PUT body that is a JSON string, INVALID_REQUEST."""
    event = event_for_key("update_item_success", "notes", ALICE)
    event["body"] = '"just a string"'

    assert call(handler("update_item"), event, lambda_context) == error(ErrorCode.INVALID_REQUEST)


def test_delete_missing_key_is_key_not_found(aws_tables: Any, lambda_context: Any) -> None:
    """Given a key never stored, DELETE is KEY_NOT_FOUND."""
    assert delete("absent", context=lambda_context) == error(ErrorCode.KEY_NOT_FOUND)


def test_delete_twice_is_key_not_found_the_second_time(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a key deleted, deleting it again is KEY_NOT_FOUND."""
    store("k", 1, context=lambda_context)

    assert delete("k", context=lambda_context) == DELETED
    assert delete("k", context=lambda_context) == error(ErrorCode.KEY_NOT_FOUND)


def test_key_can_be_stored_again_after_delete(aws_tables: Any, lambda_context: Any) -> None:
    """Given a key deleted, storing it again succeeds with the new value."""
    store("k", 1, context=lambda_context)
    delete("k", context=lambda_context)

    assert store("k", 2, context=lambda_context) == STORED
    assert get("k", context=lambda_context) == found("k", 2)


# --- authentication comes first ------------------------------------------------------------------


def test_store_without_authorizer_context_is_invalid_token(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given events/store_item_no_authorizer.json, INVALID_TOKEN and nothing stored."""
    result = call(handler("store_item"), load_event("store_item_no_authorizer"), lambda_context)

    assert result == error(ErrorCode.INVALID_TOKEN)
    assert aws_tables.scan(TableName="ItemsTable")["Items"] == []


@pytest.mark.parametrize(
    ("handler_name", "event_name"),
    [
        ("store", "store_item_null_value"),
        ("get", "get_item_success"),
        ("update", "update_item_invalid_value"),
        ("delete", "delete_item_success"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_every_data_call_without_authorizer_context_is_invalid_token(
    lambda_context: Any, handler_name: str, event_name: str
) -> None:
    """Given no authorizer context, INVALID_TOKEN even when the body is invalid too."""
    function = {
        "store": handler("store_item"),
        "get": handler("get_item"),
        "update": handler("update_item"),
        "delete": handler("delete_item"),
    }[handler_name]
    event = load_event(event_name)
    del event["requestContext"]["authorizer"]

    assert call(function, event, lambda_context) == error(ErrorCode.INVALID_TOKEN)


@pytest.mark.usefixtures("no_dynamodb")
def test_authentication_is_checked_before_malformed_json(lambda_context: Any) -> None:
    """Given no authorizer context and malformed JSON, INVALID_TOKEN."""
    event = load_event("store_item_no_authorizer")
    event["body"] = "{not json"

    assert call(handler("store_item"), event, lambda_context) == error(ErrorCode.INVALID_TOKEN)


# --- each user has a private namespace -----------------------------------------------------------


@pytest.fixture
def alice_secret(aws_tables: Any, lambda_context: Any) -> None:
    assert store("diary", "alice's secret", user=ALICE, context=lambda_context) == STORED


@pytest.mark.usefixtures("alice_secret")
def test_other_user_cannot_read_the_key(lambda_context: Any) -> None:
    """Given A's key, B's GET is KEY_NOT_FOUND."""
    assert get("diary", user=BOB, context=lambda_context) == error(ErrorCode.KEY_NOT_FOUND)


@pytest.mark.usefixtures("alice_secret")
def test_other_user_cannot_update_the_key(lambda_context: Any) -> None:
    """Given A's key, B's PUT is KEY_NOT_FOUND and A's value stays."""
    assert update("diary", "bob was here", user=BOB, context=lambda_context) == error(
        ErrorCode.KEY_NOT_FOUND
    )
    assert get("diary", user=ALICE, context=lambda_context) == found("diary", "alice's secret")


@pytest.mark.usefixtures("alice_secret")
def test_other_user_cannot_delete_the_key(lambda_context: Any) -> None:
    """Given A's key, B's DELETE is KEY_NOT_FOUND and A's item stays."""
    assert delete("diary", user=BOB, context=lambda_context) == error(ErrorCode.KEY_NOT_FOUND)
    assert get("diary", user=ALICE, context=lambda_context) == found("diary", "alice's secret")


@pytest.mark.usefixtures("alice_secret")
def test_other_user_cannot_detect_the_key(lambda_context: Any) -> None:
    """Given A's key, B's answers for it equal B's answers for a key nobody has."""
    for operation in (get, delete):
        assert operation("diary", user=BOB, context=lambda_context) == operation(
            "nobody-has-this", user=BOB, context=lambda_context
        )
    assert update("diary", 1, user=BOB, context=lambda_context) == update(
        "nobody-has-this", 1, user=BOB, context=lambda_context
    )


@pytest.mark.usefixtures("alice_secret")
def test_other_user_can_store_the_same_key_independently(lambda_context: Any) -> None:
    """Given A's key, B stores the same key name; each reads their own value."""
    assert store("diary", "bob's own", user=BOB, context=lambda_context) == STORED

    assert get("diary", user=ALICE, context=lambda_context) == found("diary", "alice's secret")
    assert get("diary", user=BOB, context=lambda_context) == found("diary", "bob's own")


@pytest.mark.usefixtures("alice_secret")
def test_deleting_ones_own_key_leaves_the_others(lambda_context: Any) -> None:
    """Given both users with one key name, B deleting its own leaves A's."""
    store("diary", "bob's own", user=BOB, context=lambda_context)

    assert delete("diary", user=BOB, context=lambda_context) == DELETED
    assert get("diary", user=ALICE, context=lambda_context) == found("diary", "alice's secret")


def code_of(answer: Any) -> tuple[int, str]:
    status, body = answer
    return status, body.get("code", "")


# --- ETags ------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_tables")
def test_store_get_and_update_answer_a_strong_etag_that_changes_on_every_write() -> None:
    stored = store("notes")
    stored_status, stored_headers = stored[0], stored.headers
    got_headers = get("notes").headers
    updated_headers = update("notes").headers
    after_headers = get("notes").headers

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
    headers = store("notes", "v1").headers
    tag = headers["ETag"]

    assert update("notes", "v2", tag=tag)[0] == 200
    assert (
        call(
            handler("update_item"),
            with_if_match(event_for_key("update_item_success", "notes", ALICE), tag),
            CONTEXT,
        )[1]
        == error(ErrorCode.PRECONDITION_FAILED)[1]
    )
    assert delete("notes", tag=tag)[:1] == (412,)
    assert get("notes")[1]["data"]["value"] == "v2"


@pytest.mark.usefixtures("aws_tables")
def test_if_match_star_and_lists_and_weak_tags() -> None:
    headers = store("notes").headers
    tag = headers["ETag"]

    assert update("notes", "a", tag=f'"other", {tag}')[0] == 200
    assert code_of(update("notes", "b", tag=f"W/{get('notes').headers['ETag']}")) == (
        412,
        "PRECONDITION_FAILED",
    )
    assert code_of(update("notes", "b", tag="garbage")) == (412, "PRECONDITION_FAILED")
    assert update("notes", "c", tag="*")[0] == 200
    assert delete("notes", tag="*")[0] == 200


@pytest.mark.usefixtures("aws_tables")
def test_if_match_on_a_missing_key_is_key_not_found() -> None:
    assert code_of(update("absent", "x", tag='"abc"')) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("absent", tag='"abc"')) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("absent", tag="*")) == (404, "KEY_NOT_FOUND")


@pytest.mark.usefixtures("aws_tables")
def test_if_match_header_name_is_case_insensitive() -> None:
    headers = store("notes").headers
    event = event_for_key("delete_item_success", "notes", ALICE)
    event["headers"]["if-match"] = '"stale"'

    assert code_of(call(handler("delete_item"), event, CONTEXT)) == (412, "PRECONDITION_FAILED")
    assert get("notes").headers["ETag"] == headers["ETag"]


def test_if_match_events_answer_412_on_an_existing_key(aws_tables: Any) -> None:
    call(handler("store_item"), load_event("store_item_success"), CONTEXT)

    assert call(handler("update_item"), load_event("update_item_if_match"), CONTEXT) == error(
        ErrorCode.PRECONDITION_FAILED
    )
    assert call(handler("delete_item"), load_event("delete_item_if_match"), CONTEXT) == error(
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
    status, body = store("bad/key", None, ttl=0)

    assert status == 400
    assert body["code"] == "INVALID_KEY"
    assert [detail["field"] for detail in body["details"]] == ["key", "value", "ttl"]
    assert code_of(update("k", "", ttl=0)) == (400, "INVALID_VALUE")


@pytest.mark.usefixtures("no_dynamodb")
def test_ttl_event_is_invalid_ttl() -> None:
    assert without_details(
        call(handler("store_item"), load_event("store_item_invalid_ttl"), CONTEXT)
    ) == error(ErrorCode.INVALID_TTL)


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("ttl", [1, 31_536_000])
def test_ttl_bounds_are_accepted(ttl: int, clock: Callable[[int], None]) -> None:
    assert store("k", "v", ttl=ttl)[0] == 200
    assert listing()[1]["data"]["keys"][0]["expires_at"] == NOW + ttl


@pytest.mark.usefixtures("aws_tables")
def test_expired_key_is_absent_everywhere_and_can_be_stored_again(
    clock: Callable[[int], None],
) -> None:
    assert store("session", "s1", ttl=2)[0] == 200
    assert get("session")[0] == 200
    clock(NOW + 2)

    assert code_of(get("session")) == (404, "KEY_NOT_FOUND")
    assert code_of(update("session", "s2")) == (404, "KEY_NOT_FOUND")
    assert code_of(update("session", "s2", tag="*")) == (404, "KEY_NOT_FOUND")
    assert code_of(delete("session")) == (404, "KEY_NOT_FOUND")
    assert listing()[1]["data"]["keys"] == []
    assert store("session", "s3")[0] == 200
    assert get("session")[1]["data"]["value"] == "s3"
    assert listing()[1]["data"]["keys"][0]["expires_at"] is None


@pytest.mark.usefixtures("aws_tables")
def test_put_without_ttl_makes_the_key_permanent_and_with_ttl_sets_it(
    clock: Callable[[int], None],
) -> None:
    store("k", "v", ttl=10)
    assert update("k", "w")[0] == 200
    assert listing()[1]["data"]["keys"][0]["expires_at"] is None
    assert update("k", "x", ttl=60)[0] == 200
    assert listing()[1]["data"]["keys"][0]["expires_at"] == NOW + 60
    clock(NOW + 1000)
    assert code_of(get("k")) == (404, "KEY_NOT_FOUND")


def test_stored_item_carries_expires_at_as_a_number(
    aws_tables: Any, clock: Callable[[int], None]
) -> None:
    call(handler("store_item"), load_event("store_item_with_ttl"), CONTEXT)
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
        status, body = listing(**query)
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
    headers = get("a").headers

    assert listing()[1]["data"] == {
        "keys": [{"key": "a", "etag": headers["ETag"], "expires_at": None, "metadata": None}],
        "cursor": None,
    }


@pytest.mark.usefixtures("aws_tables")
def test_prefix_limits_the_listing() -> None:
    for key in ["note 1", "note 2", "notes", "nota", "other"]:
        store(key)

    body = listing(prefix="note")[1]

    assert [entry["key"] for entry in body["data"]["keys"]] == ["note 1", "note 2", "notes"]


@pytest.mark.usefixtures("aws_tables")
def test_cursor_is_bound_to_user_and_prefix() -> None:
    for key in ["a1", "a2", "a3"]:
        store(key)
        store(key, user=BOB)
    cursor = listing(prefix="a", limit="1")[1]["data"]["cursor"]
    assert cursor

    assert listing(prefix="a", limit="1", cursor=cursor)[0] == 200
    for answer in (
        listing(BOB, prefix="a", limit="1", cursor=cursor),
        listing(prefix="", limit="1", cursor=cursor),
        listing(prefix="a1", limit="1", cursor=cursor),
    ):
        status, body = answer
        assert (status, body["code"]) == (400, "INVALID_PARAMETER")
        assert body["details"][0]["field"] == "cursor"


@pytest.mark.usefixtures("aws_tables")
def test_tampered_and_truncated_cursors_are_invalid_parameter() -> None:
    for key in ["a1", "a2"]:
        store(key)
    cursor = listing(limit="1")[1]["data"]["cursor"]
    payload, signature = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")

    for bad in [cursor[:-1], payload, flipped + "." + signature, cursor + "x", "", "é", "." * 3]:
        assert code_of(listing(cursor=bad)) == (400, "INVALID_PARAMETER"), bad


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("limit", ["0", "1001", "-1", "+5", "05", "1.0", "ten", "", " 5", "1e2"])
def test_bad_limit_is_invalid_parameter_naming_limit(limit: str) -> None:
    status, body = listing(limit=limit)

    assert (status, body["code"]) == (400, "INVALID_PARAMETER")
    assert body["details"] == [{"field": "limit", "message": body["details"][0]["message"]}]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("prefix", ["a/b", " a", "a ", "a\u0000", "x" * 257])
def test_bad_prefix_is_invalid_key_naming_prefix(prefix: str) -> None:
    status, body = listing(prefix=prefix, limit="0")

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

    assert call(handler("list_items"), event, CONTEXT) == error(ErrorCode.INVALID_TOKEN)


@pytest.mark.usefixtures("aws_tables")
def test_list_events_answer_as_events_readme_says() -> None:
    assert call(handler("list_items"), load_event("list_items_success"), CONTEXT)[0] == 200
    assert call(handler("list_items"), load_event("list_items_prefix"), CONTEXT)[0] == 200
    for name, code, field in [
        ("list_items_invalid_limit", ErrorCode.INVALID_PARAMETER, "limit"),
        ("list_items_invalid_cursor", ErrorCode.INVALID_PARAMETER, "cursor"),
        ("list_items_invalid_prefix", ErrorCode.INVALID_KEY, "prefix"),
    ]:
        status, body = call(handler("list_items"), load_event(name), CONTEXT)
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

    # `meta`: the suite's policy check (tests.support.running_function) reads the client's hooks.
    assert [name for name in sent if name != "meta"] == ["query"]


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

    assert get("old").headers["ETag"] == '"0"'
    assert listing()[1]["data"]["keys"][0]["etag"] == '"0"'
    assert code_of(update("old", "x", tag='"1"')) == (412, "PRECONDITION_FAILED")
    headers = update("old", "new", tag='"0"').headers
    assert headers["ETag"] != '"0"'
    assert code_of(delete("old", tag='"0"')) == (412, "PRECONDITION_FAILED")


# --- metadata ---------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_tables")
def test_metadata_is_stored_and_answered_by_get_with_numbers_as_written() -> None:
    """Given a key stored with metadata holding a number a double would round, GET answers
    the metadata with exactly those characters."""
    event = with_user(
        with_body(
            "store_item_success", '{"key": "k", "value": 1, "metadata": {"n": 1.10, "t": "x"}}'
        ),
        ALICE,
    )
    assert call(handler("store_item"), event, CONTEXT) == STORED

    response = handler("get_item")(event_for_key("get_item_success", "k", ALICE), CONTEXT)

    assert response["body"].endswith('"metadata":{"n":1.10,"t":"x"}}}')


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize("sent", [{}, {"metadata": None}], ids=["absent", "null"])
def test_a_key_without_metadata_answers_null(sent: dict[str, Any]) -> None:
    """Given a key stored without metadata (or with null), GET answers "metadata": null."""
    store("k", "v", **sent)

    assert get("k") == found("k", "v")


# {"k":"…"} is 8 bytes besides the x's, {"é":"…"} 9 ("é" is 2 bytes in UTF-8): 1025 each.
BAD_METADATA = [
    pytest.param([], id="array"),
    pytest.param("tag", id="string"),
    pytest.param(1, id="number"),
    pytest.param(True, id="boolean"),
    pytest.param({"k": "x" * 1017}, id="1025-bytes"),
    pytest.param({"é": "x" * 1016}, id="1025-bytes-utf8"),
]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("metadata", BAD_METADATA)
def test_metadata_that_is_no_object_or_over_1024_bytes_is_invalid_metadata(
    metadata: object,
) -> None:
    """Given metadata that is not a JSON object, or over 1024 bytes as compact UTF-8 JSON,
    POST and PUT answer INVALID_METADATA naming the field."""
    for answer in (store("k", "v", metadata=metadata), update("k", "v", metadata=metadata)):
        status, body = answer
        assert (status, body["code"]) == (400, "INVALID_METADATA")
        assert [detail["field"] for detail in body["details"]] == ["metadata"]


@pytest.mark.usefixtures("aws_tables")
def test_metadata_of_exactly_1024_bytes_in_utf8_is_accepted() -> None:
    """Given metadata of 1024 bytes as compact JSON ("é" counted as 2 bytes), it is kept."""
    metadata = {"é": "x" * 1015}  # {"é":"…"}: 9 bytes besides the x's

    assert store("k", "v", metadata=metadata)[0] == 200
    assert get("k")[1]["data"]["metadata"] == metadata


@pytest.mark.usefixtures("no_dynamodb")
def test_metadata_with_a_duplicated_member_is_invalid_metadata() -> None:
    event = with_user(
        with_body("store_item_success", '{"key": "k", "value": 1, "metadata": {"a": 1, "a": 2}}'),
        ALICE,
    )

    assert code_of(call(handler("store_item"), event, CONTEXT)) == (400, "INVALID_METADATA")


@pytest.mark.usefixtures("no_dynamodb")
def test_metadata_is_checked_after_the_ttl_and_every_problem_is_listed() -> None:
    """Given a bad ttl and bad metadata, INVALID_TTL decides; given a bad value too, INVALID_VALUE."""
    status, body = store("k", "v", ttl=0, metadata=[])

    assert (status, body["code"]) == (400, "INVALID_TTL")
    assert [detail["field"] for detail in body["details"]] == ["ttl", "metadata"]
    assert code_of(update("k", "", metadata=[])) == (400, "INVALID_VALUE")


@pytest.mark.usefixtures("aws_tables")
def test_put_replaces_the_metadata_and_a_put_without_it_clears_it() -> None:
    store("k", "v", metadata={"a": 1})

    update("k", "v2", metadata={"b": 2})
    replaced = get("k")[1]["data"]["metadata"]
    update("k", "v3")

    assert replaced == {"b": 2}
    assert get("k")[1]["data"]["metadata"] is None


@pytest.mark.usefixtures("aws_tables")
def test_listing_returns_each_keys_metadata_in_one_request() -> None:
    """Given keys with and without metadata, one listing page (one Query) carries each one's."""
    store("a", metadata={"colour": "red"})
    store("b")
    made = count_dynamodb_requests()

    keys = listing()[1]["data"]["keys"]

    assert [(entry["key"], entry["metadata"]) for entry in keys] == [
        ("a", {"colour": "red"}),
        ("b", None),
    ]
    assert made == {"Query": 1}


@pytest.mark.usefixtures("aws_tables")
def test_get_with_metadata_is_still_one_request() -> None:
    store("k", metadata={"a": 1})
    made = count_dynamodb_requests()

    get("k")

    assert made == {"GetItem": 1}


@pytest.mark.usefixtures("aws_tables")
def test_metadata_events_store_it_or_answer_invalid_metadata() -> None:
    assert call(handler("store_item"), load_event("store_item_with_metadata"), CONTEXT) == STORED
    assert get("photo.jpg")[1]["data"]["metadata"] == {"content_type": "image/jpeg", "width": 4032}
    assert without_details(
        call(handler("store_item"), load_event("store_item_invalid_metadata"), CONTEXT)
    ) == error(ErrorCode.INVALID_METADATA)
