"""The account calls over HTTP (SPEC.md, "Account"): read, password change ending the other
sessions, and deletion with the background purge of every key."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.e2e.helpers import (
    assert_code,
    auth_headers,
    fetch,
    log_in,
    new_user,
    register,
    registration_body,
    request_token,
    store,
)

PURGE_KEYS = 5000
PURGE_TIMEOUT_SECONDS = 240.0


def test_account_read(http: requests.Session, api_url: str) -> None:
    """Given a new account, GET /api/account answers its profile, its address not yet
    verified, and never its password or hash."""
    user = new_user(http, api_url, full_name="Alice Liddell", age=31, gender="female")

    response = http.get(f"{api_url}/api/account", headers=user.headers)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {k: v for k, v in data.items() if k != "created_at"} == {
        "user_id": user.user_id,
        "username": user.username,
        "email": user.email,
        "full_name": "Alice Liddell",
        "age": 31,
        "gender": "female",
        "email_verified": False,
    }
    assert data["created_at"].endswith("+00:00")
    assert "password" not in response.text


def test_password_change_ends_the_other_sessions(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)
    mine = log_in(http, api_url, user.username, user.password)
    other = log_in(http, api_url, user.username, user.password)
    new_password = "a-brand-new-passphrase-7"

    response = http.post(
        f"{api_url}/api/password",
        json={"current_password": user.password, "new_password": new_password},
        headers=auth_headers(mine["access_token"]),
    )

    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Password changed successfully."
    assert_code(
        http.get(f"{api_url}/api/account", headers=auth_headers(other["access_token"])),
        "INVALID_TOKEN",
    )
    refreshed = http.post(
        f"{api_url}/api/token/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert_code(refreshed, "INVALID_REFRESH_TOKEN")
    # The caller's session goes on, its refresh token too.
    assert http.get(f"{api_url}/api/account", headers=auth_headers(mine["access_token"])).ok
    mine_refreshed = http.post(
        f"{api_url}/api/token/refresh", json={"refresh_token": mine["refresh_token"]}
    )
    assert mine_refreshed.status_code == 200, mine_refreshed.text
    # The old password stops working at once, by username and by email.
    assert_code(request_token(http, api_url, user.username, user.password), "INVALID_CREDENTIALS")
    assert_code(request_token(http, api_url, user.email, user.password), "INVALID_CREDENTIALS")
    assert request_token(http, api_url, user.email, new_password).status_code == 200


def test_password_change_refusals(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)
    url = f"{api_url}/api/password"

    wrong = http.post(
        url,
        json={"current_password": "nope-nope-nope", "new_password": "another-good-one-9"},
        headers=user.headers,
    )
    weak = http.post(
        url,
        json={"current_password": user.password, "new_password": "password"},
        headers=user.headers,
    )
    named = http.post(
        url,
        json={"current_password": user.password, "new_password": f"my-{user.username}-pw"},
        headers=user.headers,
    )
    missing = http.post(url, json={"current_password": user.password}, headers=user.headers)

    assert_code(wrong, "INVALID_CREDENTIALS")
    assert_code(weak, "INVALID_PASSWORD")
    assert_code(named, "INVALID_PASSWORD")
    assert named.json()["details"] == [
        {"field": "new_password", "message": "Password must not contain the username."}
    ]
    assert_code(missing, "INVALID_REQUEST")
    assert [d["field"] for d in missing.json()["details"]] == ["new_password"]
    assert request_token(http, api_url, user.username, user.password).status_code == 200


def test_account_deletion_purges_every_key_and_frees_the_names(
    http: requests.Session, api_url: str, local_dynamodb: Any
) -> None:
    """A user with 5,000 keys: deleted, every session ended, the names free at once, and
    every key purged in the background (checked by a query of the items table)."""
    body = registration_body()
    assert register(http, api_url, body).status_code == 200
    first = log_in(http, api_url, body["username"], body["password"])
    second = log_in(http, api_url, body["username"], body["password"])
    user_id = register_user_id(http, api_url, first["access_token"])
    assert store(http, api_url, first["access_token"], "kept-by-api", {"n": 1}).status_code == 200
    write_keys(local_dynamodb, user_id, PURGE_KEYS - 1)

    wrong = http.delete(
        f"{api_url}/api/account",
        json={"password": "not-it-at-all"},
        headers=auth_headers(first["access_token"]),
    )
    assert_code(wrong, "INVALID_CREDENTIALS")
    response = http.delete(
        f"{api_url}/api/account",
        json={"password": body["password"]},
        headers=auth_headers(first["access_token"]),
    )

    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Account deleted successfully."
    assert_code(
        http.get(f"{api_url}/api/account", headers=auth_headers(second["access_token"])),
        "INVALID_TOKEN",
    )
    refreshed = http.post(
        f"{api_url}/api/token/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert_code(refreshed, "INVALID_REFRESH_TOKEN")
    assert_code(
        request_token(http, api_url, body["username"], body["password"]), "INVALID_CREDENTIALS"
    )
    # The names are free at once; the new account has a new id and none of the old keys.
    again = register(http, api_url, body)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["user_id"] != user_id
    token = log_in(http, api_url, body["username"], body["password"])["access_token"]
    assert fetch(http, api_url, token, "kept-by-api").status_code == 404

    deadline = time.monotonic() + PURGE_TIMEOUT_SECONDS
    while count_keys(local_dynamodb, user_id) and time.monotonic() < deadline:
        time.sleep(1)
    assert count_keys(local_dynamodb, user_id) == 0


def register_user_id(http: requests.Session, api_url: str, access_token: str) -> str:
    response = http.get(f"{api_url}/api/account", headers=auth_headers(access_token))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["user_id"])


def write_keys(client: Any, user_id: str, count: int) -> None:
    """Keys written straight into the items table (5,000 API calls would only be slower)."""
    for start in range(0, count, 25):
        requests_ = [
            {
                "PutRequest": {
                    "Item": {
                        "user_id": {"S": user_id},
                        "key": {"S": f"k{n:05d}"},
                        "value": {"S": '"v"'},
                    }
                }
            }
            for n in range(start, min(start + 25, count))
        ]
        while requests_:
            answer = client.batch_write_item(RequestItems={"ItemsTable": requests_})
            requests_ = answer.get("UnprocessedItems", {}).get("ItemsTable", [])
    assert count_keys(client, user_id) == count + 1


def count_keys(client: Any, user_id: str) -> int:
    """The user's items still in the items table (a query, page by page)."""
    paginator = client.get_paginator("query")
    return sum(
        page["Count"]
        for page in paginator.paginate(
            TableName="ItemsTable",
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            Select="COUNT",
            ConsistentRead=True,
        )
    )
