"""Uniqueness under concurrency: N simultaneous calls for one name, exactly one wins.

Threads wait on a barrier and then call the handlers together; nothing sleeps. The
layer's conditional writes must decide the winner, and every loser must get the
contract's conflict code, never a 500.

moto (5.2.5) is not safe for concurrent requests: its TransactWriteItems deep-copies
the whole table for rollback while other threads write to it ("RuntimeError: dictionary
changed size during iteration", moto/dynamodb/models/__init__.py:613), checks conditions
and writes in separate steps, and rolls back by restoring that copy over writes other
threads committed meanwhile. Real DynamoDB applies each request atomically, so the
`atomic_moto` fixture (tests/handlers/conftest.py) gives moto that property by running
one DynamoDB request at a time. Everything on the client side (the handlers, bcrypt,
botocore) still runs concurrently; the assertions are unchanged.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.handlers.accounts import USER
from tests.handlers.calls import call, handler, with_body

THREADS = 20

pytestmark = pytest.mark.usefixtures("atomic_moto")  # see tests/handlers/conftest.py


def all_at_once(task: Callable[[int], tuple[int, str | None]]) -> Counter[tuple[int, str | None]]:
    """Run task(0..THREADS-1) in THREADS threads released together; count (status, code)."""
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> tuple[int, str | None]:
        barrier.wait(timeout=30)
        return task(index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return Counter(pool.map(run, range(THREADS)))


def outcome(result: tuple[int, dict[str, Any]]) -> tuple[int, str | None]:
    status, body = result
    return status, body.get("code")


def users_items(client: Any) -> list[dict[str, Any]]:
    return list(client.scan(TableName="UsersTable")["Items"])


def test_one_username_registered_by_20_threads(aws_tables: Any, lambda_context: Any) -> None:
    """Given 20 registrations of one username (different emails), exactly one 200, 19 x 409."""

    def register(index: int) -> tuple[int, str | None]:
        body = {**USER, "email": f"john{index}@example.com"}
        return outcome(
            call(handler("register"), with_body("register_success", body), lambda_context)
        )

    outcomes = all_at_once(register)

    assert outcomes == Counter({(200, None): 1, (409, "USERNAME_EXISTS"): THREADS - 1})


def test_concurrent_username_race_leaves_one_consistent_account(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given the race above, the table holds one profile and exactly its two markers."""

    def register(index: int) -> tuple[int, str | None]:
        body = {**USER, "email": f"john{index}@example.com"}
        return outcome(
            call(handler("register"), with_body("register_success", body), lambda_context)
        )

    all_at_once(register)

    items = users_items(aws_tables)
    profiles = [item for item in items if item["pk"]["S"].startswith("USER#")]
    assert len(profiles) == 1
    user_id = profiles[0]["user_id"]["S"]
    email = profiles[0]["email"]["S"]
    assert sorted(item["pk"]["S"] for item in items) == sorted(
        [f"EMAIL#{email}", f"USER#{user_id}", "USERNAME#johndoe", f"MAIL#verify#{user_id}"]
    )


def test_one_email_registered_by_20_threads(aws_tables: Any, lambda_context: Any) -> None:
    """Given 20 registrations of one email (in different cases), one 200, the rest EMAIL_EXISTS."""

    def register(index: int) -> tuple[int, str | None]:
        email = "john.doe@example.com" if index % 2 else "JOHN.DOE@EXAMPLE.COM"
        body = {**USER, "username": f"john{index}", "email": email}
        return outcome(
            call(handler("register"), with_body("register_success", body), lambda_context)
        )

    outcomes = all_at_once(register)

    assert outcomes == Counter({(200, None): 1, (409, "EMAIL_EXISTS"): THREADS - 1})
    usernames = [i for i in users_items(aws_tables) if i["pk"]["S"].startswith("USERNAME#")]
    assert len(usernames) == 1  # no orphan username marker from a losing registration


def test_one_key_stored_by_20_threads(aws_tables: Any, lambda_context: Any) -> None:
    """Given 20 stores of one key by one user, exactly one succeeds, the rest KEY_EXISTS."""

    def store(index: int) -> tuple[int, str | None]:
        event = with_body("store_item_success", {"key": "notes", "value": index})
        return outcome(call(handler("store_item"), event, lambda_context))

    outcomes = all_at_once(store)

    assert outcomes == Counter({(200, None): 1, (409, "KEY_EXISTS"): THREADS - 1})
    assert len(aws_tables.scan(TableName="ItemsTable")["Items"]) == 1
