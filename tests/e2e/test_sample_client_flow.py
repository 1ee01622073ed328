"""The assignment's sample client, call for call: register with password `test_password`,
get a token, then store, read, update and delete one key; every call answers 200."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    REGISTERED,
    STORED,
    TOKEN_ISSUED,
    UPDATED,
    assert_error,
    assert_success,
    delete_quietly,
    unique_email,
    unique_username,
)

pytestmark = pytest.mark.e2e


def test_sample_client_flow(http: requests.Session, api_url: str) -> None:
    """Given a new user registered with the sample client's password `test_password`,
    when it takes a token and stores, reads, updates and deletes one key, then every
    call answers 200 with the contract's exact message, and the key is gone at the end."""
    username = unique_username("sample")
    registration = {
        "username": username,
        "email": unique_email(),
        "password": "test_password",
        "full_name": "Test User",
        "age": 30,
        "gender": "male",
    }

    registered = http.post(f"{api_url}/api/register", json=registration)
    assert assert_success(registered, REGISTERED)["data"]["username"] == username

    token_response = http.post(
        f"{api_url}/api/token", json={"username": username, "password": "test_password"}
    )
    data = assert_success(token_response, TOKEN_ISSUED)["data"]
    assert data["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {data['access_token']}"}

    try:
        stored = http.post(
            f"{api_url}/api/data",
            json={"key": "test_key", "value": "test_value", "metadata": None},
            headers=headers,
        )
        assert_success(stored, STORED)

        read = http.get(f"{api_url}/api/data/test_key", headers=headers)
        assert assert_success(read)["data"] == {
            "key": "test_key",
            "value": "test_value",
            "metadata": None,
        }

        updated = http.put(
            f"{api_url}/api/data/test_key", json={"value": "new_test_value"}, headers=headers
        )
        assert_success(updated, UPDATED)

        reread = http.get(f"{api_url}/api/data/test_key", headers=headers)
        assert assert_success(reread)["data"] == {
            "key": "test_key",
            "value": "new_test_value",
            "metadata": None,
        }

        deleted = http.delete(f"{api_url}/api/data/test_key", headers=headers)
        assert_success(deleted, DELETED)

        gone = http.get(f"{api_url}/api/data/test_key", headers=headers)
        assert_error(gone, 404, "KEY_NOT_FOUND")
    finally:
        delete_quietly(http, api_url, data["access_token"], "test_key")
