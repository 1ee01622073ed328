"""Versions (ETag, If-Match), expiry (ttl) and listing (GET /api/data) over HTTP
(SPEC.md, "Data: listing, versions and expiry")."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    STORED,
    UPDATED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    data_url,
    delete,
    delete_quietly,
    detail_fields,
    fetch,
    new_user,
    store,
    unique_suffix,
    update,
)

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 60.0


@pytest.fixture(scope="module")
def user(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture(scope="module")
def other(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture
def cleanup(http: requests.Session, api_url: str, user: User) -> Iterator[list[str]]:
    keys: list[str] = []
    yield keys
    for key in keys:
        delete_quietly(http, api_url, user.token, key)


def list_keys(http: requests.Session, api_url: str, token: str, **query: str) -> requests.Response:
    """GET /api/data with each parameter percent-encoded (a space as %20: API Gateway
    hands a '+' in a query string over as a plus sign)."""
    pairs = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
    return http.get(f"{api_url}/api/data?{pairs}", headers=auth_headers(token))


def store_with_ttl(
    http: requests.Session, api_url: str, token: str, key: str, value: Any, ttl: Any
) -> requests.Response:
    return http.post(
        f"{api_url}/api/data",
        json={"key": key, "value": value, "ttl": ttl},
        headers=auth_headers(token),
    )


def put(
    session: requests.Session,
    api_url: str,
    token: str,
    key: str,
    body: dict[str, Any],
    if_match: str | None = None,
) -> requests.Response:
    headers = auth_headers(token)
    if if_match is not None:
        headers["If-Match"] = if_match
    return session.put(data_url(api_url, key), json=body, headers=headers, timeout=TIMEOUT_SECONDS)


def delete_if_match(
    http: requests.Session, api_url: str, token: str, key: str, if_match: str
) -> requests.Response:
    headers = {**auth_headers(token), "If-Match": if_match}
    return http.delete(data_url(api_url, key), headers=headers)


def walk(http: requests.Session, api_url: str, token: str, **query: str) -> list[dict[str, Any]]:
    """Every entry of every page, following cursors until null."""
    entries: list[dict[str, Any]] = []
    for _ in range(1000):
        body = assert_success(list_keys(http, api_url, token, **query))
        assert set(body) == {"status", "data"}, body
        entries += body["data"]["keys"]
        if body["data"]["cursor"] is None:
            return entries
        query["cursor"] = body["data"]["cursor"]
    raise AssertionError("the walk did not end")


def is_strong_etag(tag: str | None) -> bool:
    return bool(tag) and len(tag or "") > 2 and tag[0] == tag[-1] == '"'  # type: ignore[index]


# --- ETags and If-Match ---------------------------------------------------------------------


def test_get_post_and_put_answer_an_etag_that_changes_with_every_write(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"etag-{unique_suffix()}"
    cleanup.append(key)

    stored = store(http, api_url, user.token, key, "v1")
    assert_success(stored, STORED)
    read = fetch(http, api_url, user.token, key)
    updated = update(http, api_url, user.token, key, "v2")
    assert_success(updated, UPDATED)
    read_again = fetch(http, api_url, user.token, key)

    assert is_strong_etag(stored.headers.get("ETag"))
    assert read.headers["ETag"] == stored.headers["ETag"]
    assert updated.headers["ETag"] != stored.headers["ETag"]
    assert read_again.headers["ETag"] == updated.headers["ETag"]


def test_parallel_puts_with_one_etag_have_exactly_one_winner(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: 8 parallel PUTs holding one ETag give one 200 and seven 412."""
    key = f"race-put-{unique_suffix()}"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "start").headers["ETag"]
    workers = 8
    barrier = threading.Barrier(workers)

    def one(index: int) -> requests.Response:
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT_SECONDS)
            return put(session, api_url, user.token, key, {"value": index}, tag)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        responses = list(pool.map(one, range(workers)))

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 412: 7}), [
        r.text for r in responses
    ]
    winner = next(r for r in responses if r.status_code == 200)
    for response in responses:
        if response.status_code == 412:
            assert_error(response, 412, "PRECONDITION_FAILED")
    current = fetch(http, api_url, user.token, key)
    assert current.headers["ETag"] == winner.headers["ETag"]
    assert current.json()["data"]["value"] in range(workers)


def test_stale_if_match_changes_nothing_and_missing_key_stays_not_found(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"stale-{unique_suffix()}"
    cleanup.append(key)
    first = store(http, api_url, user.token, key, "v1").headers["ETag"]
    assert_success(update(http, api_url, user.token, key, "v2"), UPDATED)

    assert_error(
        put(http, api_url, user.token, key, {"value": "v3"}, first), 412, "PRECONDITION_FAILED"
    )
    assert_error(delete_if_match(http, api_url, user.token, key, first), 412, "PRECONDITION_FAILED")
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "v2"

    assert_success(delete_if_match(http, api_url, user.token, key, "*"), DELETED)
    assert_error(put(http, api_url, user.token, key, {"value": "x"}, first), 404, "KEY_NOT_FOUND")
    assert_error(delete_if_match(http, api_url, user.token, key, "*"), 404, "KEY_NOT_FOUND")


def test_current_if_match_wins_on_put_and_delete(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"current-{unique_suffix()}"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "v1").headers["ETag"]

    updated = put(http, api_url, user.token, key, {"value": "v2"}, tag)
    assert_success(updated, UPDATED)
    assert_success(
        delete_if_match(http, api_url, user.token, key, updated.headers["ETag"]), DELETED
    )


# --- expiry -------------------------------------------------------------------------------


def test_key_with_ttl_expires_everywhere_and_can_be_created_again(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: ttl 2 is readable at once and absent 3 seconds later for GET, PUT,
    DELETE and listing; POST creates it again."""
    prefix = f"ttl-{unique_suffix()}"
    key = f"{prefix}-session"
    cleanup.append(key)
    sent = time.time()
    assert_success(store_with_ttl(http, api_url, user.token, key, "s1", 2), STORED)
    answered = time.time()  # the write happened between `sent` and now
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "s1"
    entries = walk(http, api_url, user.token, prefix=prefix)
    if time.time() < sent + 2:  # on a loaded machine the two seconds may already be over
        [entry] = entries
        assert entry["key"] == key
        assert isinstance(entry["expires_at"], int)
        assert sent + 2 <= entry["expires_at"] <= answered + 3  # rounded up to a second

    time.sleep(max(0.0, answered + 3.05 - time.time()))  # 3 seconds after the write

    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")
    assert_error(update(http, api_url, user.token, key, "s2"), 404, "KEY_NOT_FOUND")
    assert_error(delete(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")
    assert walk(http, api_url, user.token, prefix=prefix) == []
    assert_success(store(http, api_url, user.token, key, "s3"), STORED)
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "s3"
    assert walk(http, api_url, user.token, prefix=prefix)[0]["expires_at"] is None


def test_put_without_ttl_makes_the_key_permanent(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"permanent-{unique_suffix()}"
    cleanup.append(key)
    assert_success(store_with_ttl(http, api_url, user.token, key, "v", 600), STORED)
    assert walk(http, api_url, user.token, prefix=key)[0]["expires_at"] is not None

    assert_success(update(http, api_url, user.token, key, "w"), UPDATED)
    assert walk(http, api_url, user.token, prefix=key)[0]["expires_at"] is None

    assert_success(put(http, api_url, user.token, key, {"value": "x", "ttl": 60}), UPDATED)
    expires_at = walk(http, api_url, user.token, prefix=key)[0]["expires_at"]
    assert abs(expires_at - (time.time() + 60)) < 30


BAD_TTLS = [True, False, 2.0, 1.5, "60", 0, -5, 31_536_001, None, [1], {"s": 1}]


@pytest.mark.parametrize("ttl", BAD_TTLS, ids=repr)
def test_every_bad_ttl_is_invalid_ttl(
    http: requests.Session, api_url: str, user: User, ttl: Any
) -> None:
    key = f"bad-ttl-{unique_suffix()}"
    body = assert_error(
        store_with_ttl(http, api_url, user.token, key, "v", ttl), 400, "INVALID_TTL"
    )
    assert detail_fields(body) == {"ttl"}
    body = assert_error(
        put(http, api_url, user.token, key, {"value": "v", "ttl": ttl}), 400, "INVALID_TTL"
    )
    assert detail_fields(body) == {"ttl"}


def test_ttl_is_checked_after_the_value(http: requests.Session, api_url: str, user: User) -> None:
    body = assert_error(
        store_with_ttl(http, api_url, user.token, "k", None, 0), 400, "INVALID_VALUE"
    )
    assert detail_fields(body) == {"value", "ttl"}


def test_ttl_bounds_are_accepted(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    for ttl in (1, 31_536_000):
        key = f"ttl-bound-{unique_suffix()}"
        cleanup.append(key)
        assert_success(store_with_ttl(http, api_url, user.token, key, "v", ttl), STORED)


# --- listing --------------------------------------------------------------------------------


def test_prefix_walk_returns_every_key_once_in_utf8_byte_order(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    """Acceptance: a walk over more keys than one page, every key once, in byte order."""
    prefix = f"walk-{unique_suffix()} "
    names = [f"{i:02d}" for i in range(20)] + ["a", "Z", "é", "ä x", "😀", "\uffff", "z"]
    keys = [prefix + name for name in names]
    cleanup.extend(keys)
    for key in keys:
        assert_success(store(http, api_url, user.token, key, 1), STORED)
    assert_success(store(http, api_url, other.token, prefix + "b", 1), STORED)
    assert_success(store(http, api_url, user.token, prefix.rstrip() + "!", 1), STORED)
    cleanup.append(prefix.rstrip() + "!")

    entries = walk(http, api_url, user.token, prefix=prefix.rstrip(), limit="4")
    seen = [entry["key"] for entry in entries]

    expected = sorted([*keys, prefix.rstrip() + "!"], key=lambda key: key.encode("utf-8"))
    assert seen == expected
    for entry in entries:
        assert set(entry) == {"key", "etag", "expires_at"}
        assert is_strong_etag(entry["etag"])
        assert entry["expires_at"] is None
    delete_quietly(http, api_url, other.token, prefix + "b")


def test_default_page_and_etags_match_get(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    prefix = f"list-{unique_suffix()}"
    key = prefix + "-one"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "v").headers["ETag"]

    body = assert_success(list_keys(http, api_url, user.token, prefix=prefix))

    assert body["data"] == {
        "keys": [{"key": key, "etag": tag, "expires_at": None}],
        "cursor": None,
    }


def page_cursor(http: requests.Session, api_url: str, user: User, prefix: str) -> str:
    for name in ("1", "2", "3"):
        assert_success(store(http, api_url, user.token, prefix + name, 1), STORED)
    body = assert_success(list_keys(http, api_url, user.token, prefix=prefix, limit="1"))
    cursor: str = body["data"]["cursor"]
    assert cursor
    return cursor


def test_tampered_and_truncated_cursors_are_refused(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: a changed or truncated cursor is INVALID_PARAMETER naming cursor."""
    prefix = f"cur-{unique_suffix()}-"
    cleanup.extend(prefix + name for name in ("1", "2", "3"))
    cursor = page_cursor(http, api_url, user, prefix)
    flipped = cursor[0] + ("A" if cursor[1] != "A" else "B") + cursor[2:]

    for bad in (cursor[:-2], cursor[: len(cursor) // 2], flipped, cursor + "A", "x", "é"):
        response = list_keys(http, api_url, user.token, prefix=prefix, cursor=bad)
        assert detail_fields(assert_error(response, 400, "INVALID_PARAMETER")) == {"cursor"}, bad
    response = list_keys(http, api_url, user.token, prefix=prefix + "1", cursor=cursor)
    assert_error(response, 400, "INVALID_PARAMETER")


def test_another_users_cursor_is_refused(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    """Acceptance: a cursor given to one user is INVALID_PARAMETER for another, never a
    page of the first user's keys."""
    prefix = f"foreign-{unique_suffix()}-"
    cleanup.extend(prefix + name for name in ("1", "2", "3"))
    cursor = page_cursor(http, api_url, user, prefix)

    response = list_keys(http, api_url, other.token, prefix=prefix, cursor=cursor)

    assert detail_fields(assert_error(response, 400, "INVALID_PARAMETER")) == {"cursor"}


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "", "1.5", "+3", "007"])
def test_every_bad_limit_is_invalid_parameter(
    http: requests.Session, api_url: str, user: User, limit: str
) -> None:
    body = assert_error(list_keys(http, api_url, user.token, limit=limit), 400, "INVALID_PARAMETER")
    assert detail_fields(body) == {"limit"}


@pytest.mark.parametrize("prefix", ["a/b", " lead", "trail ", "tab\there"])
def test_bad_prefix_is_invalid_key(
    http: requests.Session, api_url: str, user: User, prefix: str
) -> None:
    body = assert_error(list_keys(http, api_url, user.token, prefix=prefix), 400, "INVALID_KEY")
    assert detail_fields(body) == {"prefix"}


def test_limit_bounds_are_accepted(http: requests.Session, api_url: str, user: User) -> None:
    for limit in ("1", "1000"):
        assert_success(
            list_keys(http, api_url, user.token, prefix="none-" + unique_suffix(), limit=limit)
        )


def test_listing_needs_a_token(http: requests.Session, api_url: str) -> None:
    assert_error(http.get(f"{api_url}/api/data"), 401, "INVALID_TOKEN")
