"""Each user's keys are private: another user can neither read, change, delete nor even
detect them, and may use the same key names for its own values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    STORED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    delete,
    delete_quietly,
    fetch,
    new_user,
    store,
    unique_key,
    update,
)

pytestmark = pytest.mark.e2e

ALICE_VALUE = {"secret": "alice's diary", "pin": 1234}


@pytest.fixture(scope="module")
def alice(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture(scope="module")
def bob(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture
def alices_key(http: requests.Session, api_url: str, alice: User) -> Iterator[str]:
    """A key Alice stored with ALICE_VALUE (deleted after the test)."""
    key = unique_key("shared-name")
    assert_success(store(http, api_url, alice.token, key, ALICE_VALUE), STORED)
    yield key
    delete_quietly(http, api_url, alice.token, key)


def alice_still_has_her_value(http: requests.Session, api_url: str, alice: User, key: str) -> None:
    response = fetch(http, api_url, alice.token, key)
    assert assert_success(response)["data"] == {"key": key, "value": ALICE_VALUE}


def test_other_user_cannot_read_the_key(
    http: requests.Session, api_url: str, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob reads it, then Bob gets 404 KEY_NOT_FOUND."""
    response = fetch(http, api_url, bob.token, alices_key)

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_other_user_cannot_tell_the_key_exists(
    http: requests.Session, api_url: str, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob reads it and a key nobody stored, then both
    answers are byte-for-byte the same."""
    for_alices = fetch(http, api_url, bob.token, alices_key)
    for_nobodys = fetch(http, api_url, bob.token, unique_key("nobody"))

    assert for_alices.status_code == for_nobodys.status_code == 404
    assert for_alices.content == for_nobodys.content


def test_other_user_cannot_update_the_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob updates it, then Bob gets KEY_NOT_FOUND and
    Alice's value is unchanged."""
    response = update(http, api_url, bob.token, alices_key, "overwritten by bob")

    assert_error(response, 404, "KEY_NOT_FOUND")
    alice_still_has_her_value(http, api_url, alice, alices_key)


def test_other_user_cannot_delete_the_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob deletes it, then Bob gets KEY_NOT_FOUND and
    Alice still has her value."""
    response = delete(http, api_url, bob.token, alices_key)

    assert_error(response, 404, "KEY_NOT_FOUND")
    alice_still_has_her_value(http, api_url, alice, alices_key)


def test_other_user_can_store_the_same_key_name(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob stores the same key name, then it succeeds and
    each reads back their own value."""
    try:
        response = store(http, api_url, bob.token, alices_key, "bob's own value")

        assert_success(response, STORED)
        assert fetch(http, api_url, bob.token, alices_key).json()["data"]["value"] == (
            "bob's own value"
        )
        alice_still_has_her_value(http, api_url, alice, alices_key)
    finally:
        delete_quietly(http, api_url, bob.token, alices_key)


def test_deleting_own_copy_leaves_the_other_users_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given Alice and Bob each storing the same key name, when Bob deletes his, then
    Alice's value remains."""
    assert_success(store(http, api_url, bob.token, alices_key, "bob's own value"), STORED)
    try:
        response = delete(http, api_url, bob.token, alices_key)

        assert_success(response, DELETED)
        alice_still_has_her_value(http, api_url, alice, alices_key)
    finally:
        delete_quietly(http, api_url, bob.token, alices_key)


def test_user_id_in_the_body_is_ignored(
    http: requests.Session, api_url: str, alice: User, bob: User
) -> None:
    """Given Bob posting a key with Alice's user_id in the body, when the store
    succeeds, then the key is in Bob's namespace, not Alice's."""
    key = unique_key("spoof")
    body = {"key": key, "value": "planted", "user_id": alice.user_id, "sub": alice.user_id}
    try:
        response = http.post(f"{api_url}/api/data", json=body, headers=auth_headers(bob.token))

        assert_success(response, STORED)
        assert_error(fetch(http, api_url, alice.token, key), 404, "KEY_NOT_FOUND")
        assert fetch(http, api_url, bob.token, key).json()["data"]["value"] == "planted"
    finally:
        delete_quietly(http, api_url, bob.token, key)
        delete_quietly(http, api_url, alice.token, key)
