"""POST /api/batch/write over HTTP: all or nothing, refusals mapped to the first failing
operation, and the batch's own rules."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    STORED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    detail_fields,
    fetch,
    store,
    unique_key,
)

pytestmark = pytest.mark.e2e


def batch_write(
    http: requests.Session, api_url: str, token: str, operations: Any
) -> requests.Response:
    body = {"operations": operations}
    return http.post(f"{api_url}/api/batch/write", json=body, headers=auth_headers(token))


def test_a_batch_whose_third_operation_fails_leaves_nothing_written(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: a store, an update and a store of an existing key: 409 KEY_EXISTS naming
    operations[2], the first store absent and the updated key unchanged."""
    fresh, updated, taken = unique_key("fresh"), unique_key("upd"), unique_key("taken")
    cleanup += [fresh, updated, taken]
    assert_success(store(http, api_url, user.token, updated, "before"), STORED)
    assert_success(store(http, api_url, user.token, taken, "kept"), STORED)

    response = batch_write(
        http,
        api_url,
        user.token,
        [
            {"op": "store", "key": fresh, "value": 1},
            {"op": "update", "key": updated, "value": "after"},
            {"op": "store", "key": taken, "value": 2},
        ],
    )

    assert detail_fields(assert_error(response, 409, "KEY_EXISTS")) == {"operations[2]"}
    assert_error(fetch(http, api_url, user.token, fresh), 404, "KEY_NOT_FOUND")
    assert assert_success(fetch(http, api_url, user.token, updated))["data"]["value"] == "before"
    assert assert_success(fetch(http, api_url, user.token, taken))["data"]["value"] == "kept"


def test_a_batch_applies_every_operation_and_answers_the_new_etags(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    new, changed, gone = unique_key("new"), unique_key("chg"), unique_key("gone")
    cleanup += [new, changed]
    tag = store(http, api_url, user.token, changed, 1).headers["ETag"]
    assert_success(store(http, api_url, user.token, gone, 1), STORED)

    response = batch_write(
        http,
        api_url,
        user.token,
        [
            {"op": "store", "key": new, "value": {"n": 1}, "metadata": {"m": 1}},
            {"op": "update", "key": changed, "value": 2, "if_match": tag},
            {"op": "delete", "key": gone},
        ],
    )

    results = assert_success(response, "Batch applied successfully.")["data"]["results"]
    assert [result["key"] for result in results] == [new, changed, gone]
    assert results[0]["etag"] == fetch(http, api_url, user.token, new).headers["ETag"]
    assert results[1]["etag"] == fetch(http, api_url, user.token, changed).headers["ETag"]
    assert results[2]["etag"] is None
    assert assert_success(fetch(http, api_url, user.token, new))["data"]["metadata"] == {"m": 1}
    assert_error(fetch(http, api_url, user.token, gone), 404, "KEY_NOT_FOUND")


def test_a_stale_if_match_is_412_and_changes_nothing(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("v")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, 1), STORED)

    response = batch_write(
        http, api_url, user.token, [{"op": "delete", "key": key, "if_match": '"stale"'}]
    )

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert assert_success(fetch(http, api_url, user.token, key))["data"]["value"] == 1


@pytest.mark.parametrize(
    "operations",
    [[], "x", [{"op": "upsert", "key": "a"}], [{"op": "delete", "key": "a"}] * 2, ["store"]],
    ids=["empty", "not-a-list", "unknown-op", "one-key-twice", "not-an-object"],
)
def test_a_malformed_batch_is_invalid_request(
    http: requests.Session, api_url: str, user: User, operations: Any
) -> None:
    assert_error(batch_write(http, api_url, user.token, operations), 400, "INVALID_REQUEST")


def test_an_operation_breaking_a_rule_answers_its_code_naming_it(
    http: requests.Session, api_url: str, user: User
) -> None:
    operations = [{"op": "delete", "key": unique_key()}, {"op": "store", "key": "x", "ttl": 5}]

    response = batch_write(http, api_url, user.token, operations)

    assert detail_fields(assert_error(response, 400, "INVALID_VALUE")) == {"operations[1]"}
