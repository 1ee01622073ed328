"""Password hashes over HTTP (SPEC.md, "Passwords"): a peppered pre-hash under bcrypt, so
a long password is never cut at bcrypt's 72 bytes, characters counted after NFC, and
hashes of the earlier scheme (plain bcrypt) upgraded by the next successful login of
either login call."""

from __future__ import annotations

from typing import Any

import bcrypt
import pytest
import requests

from tests.e2e.helpers import (
    REGISTERED,
    TOKEN_ISSUED,
    assert_error,
    assert_success,
    new_users_account,
    register,
    registration_body,
    request_token,
)

pytestmark = pytest.mark.e2e

USERS_TABLE = "UsersTable"
SCHEME = "hmac-sha256-bcrypt$"


def stored_hashes(client: Any, keys: list[str]) -> dict[str, str]:
    """The password hash on each of these items of the users table, by key."""
    hashes = {}
    for pk in keys:
        item = client.get_item(TableName=USERS_TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True)
        hashes[pk] = item["Item"]["password_hash"]["S"]
    return hashes


def with_legacy_hash(client: Any, keys: list[str], password: str) -> str:
    """Make the account one of the earlier scheme: every copy of its hash replaced by bcrypt
    over the password's own UTF-8, as the code before the pepper wrote it."""
    legacy = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode("ascii")
    for pk in keys:
        client.update_item(
            TableName=USERS_TABLE,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET password_hash = :hash",
            ExpressionAttributeValues={":hash": {"S": legacy}},
        )
    return legacy


def legacy_account(
    http: requests.Session, api_url: str, client: Any
) -> tuple[dict[str, Any], list[str]]:
    """An /api account whose profile and markers hold a legacy hash: its registration body
    and its keys (profile, username marker, email marker)."""
    body = registration_body()
    answer = register(http, api_url, body)
    assert_success(answer, REGISTERED)
    keys = [
        f"USER#{answer.json()['data']['user_id']}",
        f"USERNAME#{body['username'].lower()}",
        f"EMAIL#{body['email'].lower()}",
    ]
    with_legacy_hash(client, keys, body["password"])
    return body, keys


def test_login_by_username_upgrades_every_copy_of_a_legacy_hash(
    http: requests.Session, api_url: str, local_dynamodb: Any
) -> None:
    """Given an account whose hashes are plain bcrypt (the earlier scheme), when it logs in
    by username, then it gets its tokens, the profile and both markers now hold a hash of
    the current scheme, and the password still logs in, by username and by email."""
    body, keys = legacy_account(http, api_url, local_dynamodb)

    response = request_token(http, api_url, body["username"], body["password"])

    assert_success(response, TOKEN_ISSUED)
    hashes = stored_hashes(local_dynamodb, keys)
    assert all(value.startswith(SCHEME) for value in hashes.values()), hashes
    for login in (body["username"], body["email"]):
        assert_success(request_token(http, api_url, login, body["password"]), TOKEN_ISSUED)


def test_login_by_email_upgrades_the_profile_and_its_marker(
    http: requests.Session, api_url: str, local_dynamodb: Any
) -> None:
    """Given a legacy account, when it logs in by email, then the profile and the email
    marker are upgraded; the username's marker, which that login cannot name, is upgraded
    by the first login by username."""
    body, (profile, username_marker, email_marker) = legacy_account(http, api_url, local_dynamodb)

    assert_success(request_token(http, api_url, body["email"], body["password"]), TOKEN_ISSUED)

    hashes = stored_hashes(local_dynamodb, [profile, username_marker, email_marker])
    assert hashes[profile].startswith(SCHEME)
    assert hashes[email_marker].startswith(SCHEME)
    assert not hashes[username_marker].startswith(SCHEME)
    assert_success(request_token(http, api_url, body["username"], body["password"]), TOKEN_ISSUED)
    assert stored_hashes(local_dynamodb, [username_marker])[username_marker].startswith(SCHEME)


def test_users_login_upgrades_a_legacy_hash(
    http: requests.Session, api_url: str, local_dynamodb: Any
) -> None:
    """Given a /users account whose hashes are plain bcrypt, when it logs in on
    /users/login, then it gets its token and its profile and marker are upgraded."""
    signup, created = new_users_account(http, api_url, "legacy-users-pass-7")
    keys = [f"USER#{created['user']['_id']}", f"EMAIL#{signup['email'].lower()}"]
    with_legacy_hash(local_dynamodb, keys, signup["password"])

    login = http.post(
        f"{api_url}/users/login", json={"email": signup["email"], "password": signup["password"]}
    )

    assert login.status_code == 200, login.text
    hashes = stored_hashes(local_dynamodb, keys)
    assert all(value.startswith(SCHEME) for value in hashes.values()), hashes


def test_a_wrong_password_leaves_a_legacy_hash_as_it_is(
    http: requests.Session, api_url: str, local_dynamodb: Any
) -> None:
    """Given a legacy account, when a login with a wrong password fails, then nothing is
    upgraded."""
    body, keys = legacy_account(http, api_url, local_dynamodb)
    before = stored_hashes(local_dynamodb, keys)

    assert_error(
        request_token(http, api_url, body["username"], "not-the-password"),
        401,
        "INVALID_CREDENTIALS",
    )

    assert stored_hashes(local_dynamodb, keys) == before


def test_a_100_character_password_logs_in_while_its_72_byte_prefix_does_not(
    http: requests.Session, api_url: str
) -> None:
    """Given an account with a 100-character password, when it logs in with it, then it
    gets its tokens; with the password's first 72 bytes (all bcrypt itself would read),
    INVALID_CREDENTIALS."""
    password = "a-long-and-winding-passphrase-" * 3 + "0123456789"
    body = registration_body(password=password)
    assert_success(register(http, api_url, body), REGISTERED)

    whole = request_token(http, api_url, body["username"], password)
    prefix = request_token(http, api_url, body["username"], password[:72])

    assert len(password) == 100
    assert_success(whole, TOKEN_ISSUED)
    assert_error(prefix, 401, "INVALID_CREDENTIALS")


def test_128_cjk_characters_register_and_log_in(http: requests.Session, api_url: str) -> None:
    """Given a password of 128 CJK characters (384 UTF-8 bytes), when registered, then it
    succeeds and logs in; 129 such characters are INVALID_PASSWORD."""
    password = ("日本語の長い合言葉" * 15)[:128]
    body = registration_body(password=password)

    registered = register(http, api_url, body)
    too_long = register(http, api_url, registration_body(password=password + "語"))

    assert_success(registered, REGISTERED)
    assert_success(request_token(http, api_url, body["username"], password), TOKEN_ISSUED)
    error = assert_error(too_long, 400, "INVALID_PASSWORD")
    assert error["details"] == [
        {"field": "password", "message": "Password must be 8 to 128 characters long."}
    ]


def test_a_password_set_decomposed_logs_in_composed(http: requests.Session, api_url: str) -> None:
    """Given a password registered with a decomposed "é" (NFD), when it logs in with the
    composed spelling (NFC), then it gets its tokens: both are one password."""
    body = registration_body(password="cafe\u0301-au-lait-42")

    assert_success(register(http, api_url, body), REGISTERED)
    response = request_token(http, api_url, body["username"], "caf\u00e9-au-lait-42")

    assert_success(response, TOKEN_ISSUED)


def test_a_login_over_128_characters_is_invalid_credentials(
    http: requests.Session, api_url: str
) -> None:
    """Given a registered account, when a login sends 129 characters, then
    INVALID_CREDENTIALS."""
    body = registration_body()
    assert_success(register(http, api_url, body), REGISTERED)

    response = request_token(http, api_url, body["username"], "x" * 129)

    assert_error(response, 401, "INVALID_CREDENTIALS")
