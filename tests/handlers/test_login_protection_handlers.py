"""Login protection (SPEC.md, "Login protection") on the login handlers, against moto:
the count per canonical name, the lockout and its Retry-After, unknown names alike, exact
under concurrency, the 15-minute reset, and the requests a login makes."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox.sessions import attempt_records
from tests.handlers.calls import (
    USER,
    conflict_once,
    error,
    register,
    token,
    users_login_handler,
    with_body,
)

WRONG = "wrong-password-1"


@pytest.fixture
def account(aws_tables: Any, lambda_context: Any) -> None:
    assert register(lambda_context)[0] == 200


def locked_for(answer: dict[str, Any]) -> int:
    """Retry-After of a raw 429 proxy response (asserts its body)."""
    assert answer["statusCode"] == 429
    assert json.loads(answer["body"])["code"] == "TOO_MANY_REQUESTS"
    assert "Retry-After" in answer["headers"]["Access-Control-Expose-Headers"]
    return int(answer["headers"]["Retry-After"])


def raw_token(context: Any, username: str, password: str) -> dict[str, Any]:
    from tests.handlers.calls import token_handler

    body = {"username": username, "password": password}
    answer: dict[str, Any] = token_handler(with_body("token_success", body), context)
    return answer


@pytest.mark.parametrize(
    "name",
    [USER["username"], "nobody_has_this_name", "ghost@example.com"],
    ids=["user", "unknown", "email"],
)
def test_five_failures_then_429_with_retry_after(
    account: None, lambda_context: Any, name: str
) -> None:
    """Given 5 failures for a name (with or without an account), the next login is refused
    without a password check, for 1 s; then 2 s after the next failure."""
    for _ in range(5):
        assert token(lambda_context, name, WRONG) == error(ErrorCode.INVALID_CREDENTIALS)

    assert locked_for(raw_token(lambda_context, name, USER["password"])) == 1
    time.sleep(1.05)
    assert token(lambda_context, name, WRONG) == error(ErrorCode.INVALID_CREDENTIALS)
    assert locked_for(raw_token(lambda_context, name, WRONG)) == 2


def test_names_count_in_canonical_form(account: None, lambda_context: Any) -> None:
    for spelling in ("JohnDoe", "JOHNDOE", "johndoe", "jOhNdOe", "JohnDOE"):
        assert token(lambda_context, spelling, WRONG)[0] == 401

    assert locked_for(raw_token(lambda_context, "johndoe", USER["password"])) == 1


def test_success_resets_the_count(account: None, lambda_context: Any) -> None:
    for _ in range(4):
        token(lambda_context, USER["username"], WRONG)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200

    for _ in range(5):
        assert token(lambda_context, USER["username"], WRONG)[0] == 401


def test_fifteen_quiet_minutes_reset_the_count(
    account: None, lambda_context: Any, aws_tables: Any
) -> None:
    for _ in range(7):
        token(lambda_context, USER["username"], WRONG)
        time.sleep(0.01)
    long_ago = int(time.time() * 1000) - (attempt_records.QUIET_RESET_SECONDS + 1) * 1000
    aws_tables.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": "USERNAME#johndoe"}},
        UpdateExpression="SET last_attempt = :t",
        ExpressionAttributeValues={":t": {"N": str(long_ago)}},
    )

    assert [token(lambda_context, USER["username"], WRONG)[0] for _ in range(5)] == [401] * 5
    assert locked_for(raw_token(lambda_context, USER["username"], WRONG)) == 1


@pytest.mark.usefixtures("atomic_moto")
def test_twenty_parallel_guesses_get_exactly_five_password_checks(
    account: None, lambda_context: Any
) -> None:
    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(
            pool.map(lambda _: token(lambda_context, USER["username"], WRONG)[0], range(20))
        )

    assert statuses == [401] * 5 + [429] * 15


def test_unknown_names_get_the_same_answers_and_expire(
    account: None, lambda_context: Any, aws_tables: Any
) -> None:
    """A name without an account keeps only a count, with a TTL; a real account's marker
    never gets a numeric TTL."""
    token(lambda_context, "no_such_user", WRONG)
    token(lambda_context, USER["username"], WRONG)

    ghost = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#no_such_user"}})
    real = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})
    assert int(ghost["Item"]["expires_at"]["N"]) > time.time()
    assert "N" not in real["Item"]["expires_at"]  # a string: TTL ignores it


def test_a_counted_name_can_still_be_registered(aws_tables: Any, lambda_context: Any) -> None:
    for _ in range(3):
        token(lambda_context, USER["username"], WRONG)

    assert register(lambda_context)[0] == 200
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_login_makes_at_most_two_requests(
    account: None, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    token(lambda_context, USER["username"], USER["password"])
    assert dict(dynamodb_requests) == {"UpdateItem": 1, "TransactWriteItems": 1}
    dynamodb_requests.clear()

    token(lambda_context, USER["username"], WRONG)
    assert dict(dynamodb_requests) == {"UpdateItem": 2}
    dynamodb_requests.clear()

    for _ in range(5):
        token(lambda_context, USER["username"], WRONG)
    dynamodb_requests.clear()
    raw_token(lambda_context, USER["username"], USER["password"])
    assert dict(dynamodb_requests) == {"UpdateItem": 1}  # refused before bcrypt


def test_users_login_shares_the_count_and_answers_its_own_shape(
    account: None, lambda_context: Any
) -> None:
    for _ in range(5):
        token(lambda_context, USER["email"], WRONG)
    body = {"email": USER["email"].upper(), "password": USER["password"]}

    answer = users_login_handler(with_body("users_login_success", body), lambda_context)

    assert answer["statusCode"] == 429
    assert json.loads(answer["body"]) == {"message": "Too many requests. Please try again later."}
    assert answer["headers"]["Retry-After"] == "1"
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"


def test_lockout_seconds_double_up_to_fifteen_minutes() -> None:
    assert [attempt_records.lockout_seconds(n) for n in range(4, 17)] == [
        0,
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        512,
        900,
        900,
    ]


def test_a_login_whose_transaction_meets_a_concurrent_count_is_tried_again(
    account: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the session's transaction cancelled once for a conflict (another login of the
    name counted at that moment), the login still succeeds."""
    calls = conflict_once(monkeypatch, "transact_write_items", ["None", "TransactionConflict"])

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert len(calls) == 2  # cancelled once, then sent again
