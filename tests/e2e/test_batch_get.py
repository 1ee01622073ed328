"""POST /api/batch/get over HTTP: many keys in one call, each entry whole, the others
missing, and the list's own rules."""

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


def batch_get(http: requests.Session, api_url: str, token: str, body: Any) -> requests.Response:
    return http.post(f"{api_url}/api/batch/get", json=body, headers=auth_headers(token))


def test_stored_keys_come_whole_in_the_order_asked_and_the_others_are_missing(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    """Given two keys of the caller (one with ttl and metadata) and one of another user,
    the batch answers the caller's two in the order asked and the rest as missing."""
    first, second, foreign, absent = (unique_key(name) for name in ("b", "a", "f", "x"))
    cleanup += [first, second]
    body = '{"key": "' + first + '", "value": {"n": 1.50}, "ttl": 3600, "metadata": {"m": "x"}}'
    headers = {**auth_headers(user.token), "Content-Type": "application/json"}
    assert_success(http.post(f"{api_url}/api/data", data=body, headers=headers))
    assert_success(store(http, api_url, user.token, second, "two"), STORED)
    assert_success(store(http, api_url, other.token, foreign, "theirs"), STORED)

    response = batch_get(http, api_url, user.token, {"keys": [first, absent, second, foreign]})

    data = assert_success(response)["data"]
    assert [item["key"] for item in data["items"]] == [first, second]
    assert data["missing"] == [absent, foreign]
    assert '"value":{"n":1.50}' in response.text
    one, two = data["items"]
    assert one["etag"] == fetch(http, api_url, user.token, first).headers["ETag"]
    assert isinstance(one["expires_at"], int)
    assert one["metadata"] == {"m": "x"}
    assert (two["value"], two["expires_at"], two["metadata"]) == ("two", None, None)
    http.delete(f"{api_url}/api/data/{foreign}", headers=auth_headers(other.token))


def test_100_keys_are_read_in_one_call(http: requests.Session, api_url: str, user: User) -> None:
    keys = [unique_key(f"k{index}") for index in range(100)]

    data = assert_success(batch_get(http, api_url, user.token, {"keys": keys}))["data"]

    assert data == {"items": [], "missing": keys}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"keys": []},
        {"keys": "a"},
        {"keys": ["a", "a"]},
        {"keys": [f"k{i}" for i in range(101)]},
    ],
    ids=["missing", "empty", "not-a-list", "duplicated", "101-keys"],
)
def test_a_bad_list_is_invalid_request(
    http: requests.Session, api_url: str, user: User, body: dict[str, Any]
) -> None:
    assert_error(batch_get(http, api_url, user.token, body), 400, "INVALID_REQUEST")


def test_bad_keys_are_invalid_key_naming_their_positions(
    http: requests.Session, api_url: str, user: User
) -> None:
    response = batch_get(http, api_url, user.token, {"keys": ["ok", "a/b", " x"]})

    assert detail_fields(assert_error(response, 400, "INVALID_KEY")) == {"keys[1]", "keys[2]"}


def test_without_a_token_is_invalid_token(http: requests.Session, api_url: str) -> None:
    assert_error(http.post(f"{api_url}/api/batch/get", json={"keys": ["a"]}), 401, "INVALID_TOKEN")


def test_100_values_near_the_limit_are_refused_naming_how_many_fit(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Given 100 keys of values near the 64 KiB limit (6.5 MB together, over Lambda's 6 MB
    response), the batch is 400 INVALID_REQUEST naming keys and how many of the first keys
    fit, never a 500; asked in those two parts, every key comes back whole."""
    keys = [unique_key(f"big{index:03d}") for index in range(100)]
    cleanup += keys
    value = "x" * 65_000
    for start in (0, 50):
        operations = [
            {"op": "store", "key": key, "value": value} for key in keys[start : start + 50]
        ]
        response = http.post(
            f"{api_url}/api/batch/write",
            json={"operations": operations},
            headers=auth_headers(user.token),
        )
        assert_success(response, "Batch applied successfully.")

    body = assert_error(
        batch_get(http, api_url, user.token, {"keys": keys}), 400, "INVALID_REQUEST"
    )

    assert detail_fields(body) == {"keys"}
    fit = int(body["details"][0]["message"].split("(the first ")[1].split(" ")[0])
    assert 0 < fit < 100
    for part in (keys[:fit], keys[fit:]):
        data = assert_success(batch_get(http, api_url, user.token, {"keys": part}))["data"]
        assert [(item["key"], item["value"]) for item in data["items"]] == [
            (key, value) for key in part
        ]
