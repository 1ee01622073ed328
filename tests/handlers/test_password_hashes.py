"""Password hashes through the login handlers, against moto: hashes of the earlier scheme
(plain bcrypt) upgraded in the login's own transaction, in the same two DynamoDB requests,
never over a password changed meanwhile."""

from __future__ import annotations

from collections import Counter
from typing import Any

import bcrypt
import pytest

from lockbox.accounts import passwords
from lockbox.sessions import login_calls
from tests.handlers.accounts import USER
from tests.handlers.calls import handler, with_body
from tests.handlers.sessions import token

SCHEME = "hmac-sha256-bcrypt$"


def keys(user_id: str) -> list[str]:
    """The sample account's copies of its hash: profile, username and email markers."""
    return [f"USER#{user_id}", "USERNAME#johndoe", "EMAIL#john.doe@example.com"]


def hashes(client: Any, user_id: str) -> list[str]:
    return [
        client.get_item(TableName="UsersTable", Key={"pk": {"S": pk}})["Item"]["password_hash"]["S"]
        for pk in keys(user_id)
    ]


def set_hash(client: Any, pk: str, value: str) -> None:
    client.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": pk}},
        UpdateExpression="SET password_hash = :hash",
        ExpressionAttributeValues={":hash": {"S": value}},
    )


@pytest.fixture
def legacy_user(user_id: str, aws_tables: Any) -> str:
    """The sample account with a hash of the earlier scheme on every copy, as the code
    before the pepper wrote it: bcrypt over the password's own UTF-8."""
    legacy = bcrypt.hashpw(USER["password"].encode(), bcrypt.gensalt(rounds=4)).decode()
    for pk in keys(user_id):
        set_hash(aws_tables, pk, legacy)
    return user_id


def test_login_upgrades_a_legacy_hash_within_its_two_requests(
    legacy_user: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a legacy account, when it logs in by username, then 200 in one UpdateItem and
    one TransactWriteItems, and every copy of its hash is one of the current scheme."""
    dynamodb_requests.clear()

    status, _ = token(lambda_context, USER["username"], USER["password"])

    assert status == 200
    assert dict(dynamodb_requests) == {"UpdateItem": 1, "TransactWriteItems": 1}
    assert all(value.startswith(SCHEME) for value in hashes(aws_tables, legacy_user))
    assert token(lambda_context, USER["email"], USER["password"])[0] == 200


def test_users_login_upgrades_a_legacy_hash(
    legacy_user: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given a legacy account, when it logs in on /users/login, then 200 and the profile
    and the email marker hold a current hash."""
    body = {"email": USER["email"], "password": USER["password"]}

    answer = handler("users_login")(with_body("users_login_success", body), lambda_context)

    assert answer["statusCode"] == 200
    profile, _, email_marker = hashes(aws_tables, legacy_user)
    assert profile.startswith(SCHEME)
    assert email_marker.startswith(SCHEME)


def test_current_hash_is_left_as_it_is(user_id: str, aws_tables: Any, lambda_context: Any) -> None:
    """Given an account registered with the current scheme, when it logs in, then its
    hashes are unchanged (no new bcrypt hash, no write of them)."""
    before = hashes(aws_tables, user_id)

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200

    assert hashes(aws_tables, user_id) == before


def test_password_changed_during_the_login_is_never_overwritten(
    legacy_user: str,
    aws_tables: Any,
    lambda_context: Any,
    dynamodb_requests: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a legacy account whose password changes (every copy) while a login with the
    old one is between its read and its write, when the login writes, then the upgrade's
    condition fails and the login is written without it: 200, a second transaction, and
    the changed password's hash stays on every copy."""
    changed = passwords.hash_password("the-changed-password-9")
    real = login_calls.upgraded_hash

    def change_meanwhile(password: str, password_hash: str) -> str | None:
        for pk in keys(legacy_user):
            set_hash(aws_tables, pk, changed)
        return real(password, password_hash)

    monkeypatch.setattr(login_calls, "upgraded_hash", change_meanwhile)
    dynamodb_requests.clear()

    status, _ = token(lambda_context, USER["username"], USER["password"])

    assert status == 200
    assert dict(dynamodb_requests) == {"UpdateItem": 1, "TransactWriteItems": 2}
    assert hashes(aws_tables, legacy_user) == [changed] * 3
