"""PATCH /api/data/{key} against moto tables from template.yaml: RFC 7396 merge patches
applied to the stored value, written over exactly the version read."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.calls import call, error, handler, without_details
from tests.handlers.items import (
    ALICE,
    BOB,
    CONTEXT,
    NOW,
    UPDATED,
    event_for_key,
    found,
    get,
    listing,
    patch,
    store,
    write_after_first_read,
)
from tests.handlers.test_concurrency import all_at_once
from tests.support import count_dynamodb_requests


@pytest.mark.usefixtures("aws_tables")
def test_patch_event_sets_and_removes_members_with_a_new_etag() -> None:
    """Given the sample item, the events/ file sets `done` and removes `tags` (null)."""
    call(handler("store_item"), load_event("store_item_success"), CONTEXT)
    before = get("notes").headers["ETag"]

    answer = call(handler("patch_item"), load_event("patch_item_success"), CONTEXT)

    assert answer == UPDATED
    assert get("notes") == found("notes", {"text": "buy milk", "done": True})
    assert answer.headers["ETag"] == get("notes").headers["ETag"] != before


@pytest.mark.usefixtures("no_dynamodb")
def test_wrong_content_type_event_is_invalid_request() -> None:
    status, body = call(handler("patch_item"), load_event("patch_item_wrong_content_type"), CONTEXT)

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [detail["field"] for detail in body["details"]] == ["Content-Type"]


# RFC 7396, Appendix A (the examples a merge patch must reproduce).
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], {"a": "c"}, {"a": "c"}),
    ("foo", {"a": "c"}, {"a": "c"}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize(("stored", "merge", "result"), RFC_EXAMPLES)
def test_rfc_7396_examples(stored: object, merge: dict[str, Any], result: object) -> None:
    store("k", stored)

    assert patch("k", merge) == UPDATED
    assert get("k") == found("k", result)


@pytest.mark.usefixtures("aws_tables")
def test_members_named_ttl_and_metadata_are_part_of_the_value() -> None:
    store("k", {"a": 1})

    patch("k", {"ttl": 60, "metadata": {"x": 1}})

    assert get("k") == found("k", {"a": 1, "ttl": 60, "metadata": {"x": 1}})
    assert listing()[1]["data"]["keys"][0]["expires_at"] is None


@pytest.mark.usefixtures("aws_tables", "clock")
def test_the_key_keeps_its_expiry_and_metadata() -> None:
    store("k", {"a": 1}, ttl=60, metadata={"m": 1})

    patch("k", {"b": 2})

    entry = listing()[1]["data"]["keys"][0]
    assert (entry["expires_at"], entry["metadata"]) == (NOW + 60, {"m": 1})


@pytest.mark.usefixtures("aws_tables")
def test_numbers_keep_their_literal_text() -> None:
    store("k", {"a": 1})

    patch("k", '{"pi": 3.141592653589793238462643383279, "z": -0}')
    response = handler("get_item")(event_for_key("get_item_success", "k", ALICE), CONTEXT)

    assert '"value":{"a":1,"pi":3.141592653589793238462643383279,"z":-0}' in response["body"]


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/merge-patch",
        "",
        "application/json-patch+json",
    ],
)
def test_another_content_type_is_invalid_request(content_type: str) -> None:
    assert without_details(patch("k", {"a": 1}, content_type=content_type)) == error(
        ErrorCode.INVALID_REQUEST
    )


@pytest.mark.usefixtures("aws_tables")
@pytest.mark.parametrize(
    "content_type",
    ["application/merge-patch+json; charset=utf-8", "Application/Merge-Patch+JSON"],
)
def test_a_charset_parameter_and_any_case_are_fine(content_type: str) -> None:
    store("k", {"a": 1})

    assert patch("k", {"b": 2}, content_type=content_type) == UPDATED


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("body", ["[1]", '"x"', "null", "not json", ""])
def test_a_body_that_is_not_a_json_object_is_invalid_request(body: str) -> None:
    assert without_details(patch("k", body)) == error(ErrorCode.INVALID_REQUEST)


@pytest.mark.usefixtures("no_dynamodb")
def test_a_bad_path_key_is_invalid_key_before_the_content_type() -> None:
    assert without_details(patch(" k", "[1]", content_type="text/plain")) == error(
        ErrorCode.INVALID_KEY
    )


@pytest.mark.usefixtures("no_dynamodb")
def test_a_patch_naming_a_member_twice_is_invalid_value() -> None:
    status, body = patch("k", '{"a": 1, "a": 2}')

    assert (status, body["code"]) == (400, "INVALID_VALUE")


@pytest.mark.usefixtures("aws_tables")
def test_a_result_over_the_value_limit_is_invalid_value_and_nothing_changes() -> None:
    store("k", {"a": "x" * 40_000})

    status, body = patch("k", {"b": "y" * 30_000})

    assert (status, body["code"]) == (400, "INVALID_VALUE")
    assert get("k") == found("k", {"a": "x" * 40_000})


@pytest.mark.usefixtures("aws_tables")
def test_a_missing_or_foreign_key_is_key_not_found() -> None:
    store("k", {"a": 1})

    assert patch("absent", {"a": 2}) == error(ErrorCode.KEY_NOT_FOUND)
    assert patch("k", {"a": 2}, user=BOB) == error(ErrorCode.KEY_NOT_FOUND)
    assert get("k") == found("k", {"a": 1})


@pytest.mark.usefixtures("aws_tables")
def test_if_match_is_honoured_as_on_put() -> None:
    tag = store("k", {"a": 1}).headers["ETag"]

    assert patch("k", {"a": 2}, tag=tag) == UPDATED
    assert patch("k", {"a": 3}, tag=tag) == error(ErrorCode.PRECONDITION_FAILED)
    assert patch("k", {"a": 4}, tag="*") == UPDATED
    assert patch("absent", {"a": 1}, tag=tag) == error(ErrorCode.KEY_NOT_FOUND)
    assert get("k") == found("k", {"a": 4})


@pytest.mark.usefixtures("aws_tables")
def test_if_match_is_checked_against_the_version_the_write_goes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given If-Match of the version read, and another write landing between the read and
    the write, the call reads again, finds another version, and answers 412 unchanged."""
    tag = store("k", {"a": 1}).headers["ETag"]
    reads = write_after_first_read(monkeypatch, '{"a":"other"}')

    assert patch("k", {"b": 2}, tag=tag) == error(ErrorCode.PRECONDITION_FAILED)
    assert len(reads) == 2
    assert get("k") == found("k", {"a": "other"})


@pytest.mark.usefixtures("aws_tables")
def test_a_patch_without_conflict_is_two_requests() -> None:
    store("k", {"a": 1})
    made = count_dynamodb_requests()

    patch("k", {"b": 2})

    assert made == Counter({"GetItem": 1, "UpdateItem": 1})


@pytest.mark.usefixtures("aws_tables", "atomic_moto")
def test_20_parallel_patches_of_different_members_all_survive() -> None:
    store("k", {})

    answers = all_at_once(lambda index: (patch("k", {f"m{index}": index})[0], None))

    assert answers == Counter({(200, None): 20})
    assert get("k")[1]["data"]["value"] == {f"m{index}": index for index in range(20)}
