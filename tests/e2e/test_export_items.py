"""GET /api/export over HTTP: the account on the first page, every key whole, pages under
5,000,000 bytes, walked back exactly once with signed cursors bound to the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    User,
    assert_error,
    assert_success,
    auth_headers,
    detail_fields,
    new_user,
)

pytestmark = pytest.mark.e2e

PAGE_BOUND = 5_000_000


@pytest.fixture
def fresh(http: requests.Session, api_url: str) -> Iterator[User]:
    """A user of its own, whose export is exactly what the test stores; deleted after."""
    user = new_user(http, api_url)
    yield user
    http.delete(
        f"{api_url}/api/account", json={"password": user.password}, headers=auth_headers(user.token)
    )


def write(http: requests.Session, api_url: str, user: User, operations: list[Any]) -> list[Any]:
    """Apply operations through POST /api/batch/write, 50 at a time; their results."""
    results = []
    for start in range(0, len(operations), 50):
        response = http.post(
            f"{api_url}/api/batch/write",
            json={"operations": operations[start : start + 50]},
            headers=auth_headers(user.token),
        )
        results += assert_success(response, "Batch applied successfully.")["data"]["results"]
    return results


def export_page(
    http: requests.Session, api_url: str, token: str, cursor: str | None = None
) -> requests.Response:
    params = {} if cursor is None else {"cursor": cursor}
    return http.get(f"{api_url}/api/export", params=params, headers=auth_headers(token))


def walk(http: requests.Session, api_url: str, user: User) -> list[requests.Response]:
    """Every page of the user's export, in order."""
    pages, cursor = [], None
    while True:
        pages.append(export_page(http, api_url, user.token, cursor))
        cursor = assert_success(pages[-1])["data"]["cursor"]
        if cursor is None:
            return pages


def test_an_export_of_60_keys_of_20_kb_each_walks_back_exactly(
    http: requests.Session, api_url: str, fresh: User
) -> None:
    """Given 60 keys of 20 KB (1.2 MB, more than one DynamoDB Query reads), some with ttl
    and metadata, walking the export answers the account on the first page as GET
    /api/account does, then each key exactly once with its value, etag, expiry and metadata
    as stored, every page under 5,000,000 bytes."""
    operations = [
        {"op": "store", "key": f"key {index:02d}", "value": {"n": index, "text": "é" * 10_000}}
        | ({"ttl": 3600, "metadata": {"i": index}} if index % 3 == 0 else {})
        for index in range(60)
    ]
    etags = [result["etag"] for result in write(http, api_url, fresh, operations)]
    account = assert_success(http.get(f"{api_url}/api/account", headers=fresh.headers))["data"]

    pages = walk(http, api_url, fresh)

    datas = [page.json()["data"] for page in pages]
    assert len(pages) > 1
    assert all(len(page.content) < PAGE_BOUND for page in pages)
    assert datas[0]["account"] == account
    assert all(data["account"] is None for data in datas[1:])
    items = [item for data in datas for item in data["items"]]
    assert [item["key"] for item in items] == [op["key"] for op in operations]
    for item, operation, etag in zip(items, operations, etags, strict=True):
        assert item["value"] == operation["value"]
        assert item["etag"] == etag
        assert item["metadata"] == operation.get("metadata")
        assert (item["expires_at"] is None) == ("ttl" not in operation)


def test_pages_of_values_near_the_limit_stay_under_5_000_000_bytes(
    http: requests.Session, api_url: str, fresh: User
) -> None:
    """Given 100 values of 30,000 quote characters (60 KB of JSON each, 6 MB in all, twice
    that once escaped in Lambda's response), every page is under 5,000,000 bytes and the
    walk returns all 100 keys once."""
    keys = [f"q{index:03d}" for index in range(100)]
    write(
        http, api_url, fresh, [{"op": "store", "key": key, "value": '"' * 30_000} for key in keys]
    )

    pages = walk(http, api_url, fresh)

    assert all(len(page.content) < PAGE_BOUND for page in pages)
    exported = [item["key"] for page in pages for item in page.json()["data"]["items"]]
    assert exported == keys


def test_a_cursor_is_the_callers_and_the_exports_own(
    http: requests.Session, api_url: str, fresh: User, other: User
) -> None:
    """Given a cursor of the caller's export, the next page takes it; another user, the
    listing, or a changed copy get 400 INVALID_PARAMETER naming cursor, and the export
    refuses a listing's cursor."""
    write(
        http,
        api_url,
        fresh,
        [{"op": "store", "key": f"big{index}", "value": "x" * 60_000} for index in range(20)],
    )
    cursor = assert_success(export_page(http, api_url, fresh.token))["data"]["cursor"]
    listed = http.get(f"{api_url}/api/data", params={"limit": 1}, headers=fresh.headers)
    listing_cursor = assert_success(listed)["data"]["cursor"]
    assert cursor
    assert listing_cursor

    assert_success(export_page(http, api_url, fresh.token, cursor))
    refusals = [
        export_page(http, api_url, other.token, cursor),
        export_page(http, api_url, fresh.token, cursor[:-2]),
        export_page(http, api_url, fresh.token, listing_cursor),
        http.get(f"{api_url}/api/data", params={"cursor": cursor}, headers=fresh.headers),
    ]
    for response in refusals:
        assert detail_fields(assert_error(response, 400, "INVALID_PARAMETER")) == {"cursor"}


def test_an_export_without_a_token_is_invalid_token(http: requests.Session, api_url: str) -> None:
    assert_error(http.get(f"{api_url}/api/export"), 401, "INVALID_TOKEN")
