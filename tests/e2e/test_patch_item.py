"""PATCH /api/data/{key} over HTTP: JSON merge patches (RFC 7396) that never lose each
other's changes under concurrency, If-Match, and the contract's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    STORED,
    UPDATED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    data_url,
    detail_fields,
    fetch,
    store,
    unique_key,
)
from tests.e2e.test_concurrency import WORKERS, race

pytestmark = pytest.mark.e2e

MERGE_PATCH = "application/merge-patch+json"


def patch(
    http: requests.Session,
    api_url: str,
    token: str,
    key: str,
    body: Any,
    content_type: str = MERGE_PATCH,
    **headers: str,
) -> requests.Response:
    data = body if isinstance(body, str) else json.dumps(body)
    sent = {**auth_headers(token), "Content-Type": content_type, **headers}
    return http.patch(data_url(api_url, key), data=data, headers=sent)


def value_of(http: requests.Session, api_url: str, token: str, key: str) -> Any:
    return assert_success(fetch(http, api_url, token, key))["data"]["value"]


def test_parallel_patches_setting_different_members_all_survive(
    api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: 20 patches sent at once, each setting its own member of one key, all
    answer 200 and every member is there at the end (the contract asks 10 of them)."""
    key = unique_key("patched")
    cleanup.append(key)
    with requests.Session() as http:
        assert_success(store(http, api_url, user.token, key, {"start": True}), STORED)

    responses = race(
        lambda session, index: patch(session, api_url, user.token, key, {f"m{index}": index})
    )

    for response in responses:
        assert_success(response, UPDATED)
    with requests.Session() as http:
        expected = {"start": True, **{f"m{index}": index for index in range(WORKERS)}}
        assert value_of(http, api_url, user.token, key) == expected


def test_a_patch_sets_merges_and_removes_members_and_keeps_metadata(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("merge")
    cleanup.append(key)
    body = {"key": key, "value": {"a": {"b": 1, "c": 2}, "d": 3}, "metadata": {"m": 1}}
    assert_success(http.post(f"{api_url}/api/data", json=body, headers=auth_headers(user.token)))

    response = patch(
        http, api_url, user.token, key, '{"a": {"c": null, "e": 1.50}, "d": null, "ttl": 5}'
    )

    assert_success(response, UPDATED)
    read = fetch(http, api_url, user.token, key)
    assert read.headers["ETag"] == response.headers["ETag"]
    assert read.text.endswith('"value":{"a":{"b":1,"e":1.50},"ttl":5},"metadata":{"m":1}}}')


def test_if_match_of_a_stale_version_is_412_and_changes_nothing(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("versioned")
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, {"a": 1}).headers["ETag"]
    assert_success(patch(http, api_url, user.token, key, {"a": 2}, **{"If-Match": tag}))

    stale = patch(http, api_url, user.token, key, {"a": 3}, **{"If-Match": tag})

    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert value_of(http, api_url, user.token, key) == {"a": 2}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_another_content_type_is_invalid_request(
    http: requests.Session, api_url: str, user: User, content_type: str
) -> None:
    response = patch(http, api_url, user.token, unique_key("k"), {"a": 1}, content_type)

    assert detail_fields(assert_error(response, 400, "INVALID_REQUEST")) == {"Content-Type"}


def test_a_charset_parameter_is_fine(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("charset")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, {"a": 1}), STORED)

    response = patch(http, api_url, user.token, key, {"ü": 1}, f"{MERGE_PATCH}; charset=utf-8")

    assert_success(response, UPDATED)
    assert value_of(http, api_url, user.token, key) == {"a": 1, "ü": 1}


def test_a_missing_key_is_key_not_found(http: requests.Session, api_url: str, user: User) -> None:
    key = unique_key("absent")

    assert_error(patch(http, api_url, user.token, key, {"a": 1}), 404, "KEY_NOT_FOUND")
    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")


def test_a_body_that_is_not_a_json_object_is_invalid_request(
    http: requests.Session, api_url: str, user: User
) -> None:
    response = patch(http, api_url, user.token, unique_key("k"), "[1]")

    assert_error(response, 400, "INVALID_REQUEST")


def test_another_users_key_is_key_not_found_and_unchanged(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    key = unique_key("mine")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, {"a": 1}), STORED)

    assert_error(patch(http, api_url, other.token, key, {"a": 2}), 404, "KEY_NOT_FOUND")
    assert value_of(http, api_url, user.token, key) == {"a": 1}
