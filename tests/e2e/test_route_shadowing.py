"""Keys named like the routes' static segments (batch, export, increment, get) stay
reachable through every /api/data route: no route shadows a key."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    STORED,
    UPDATED,
    User,
    assert_success,
    auth_headers,
    data_url,
    delete,
    fetch,
    store,
    update,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("key", ["batch", "export", "increment", "get", "write"])
def test_a_key_named_like_a_route_segment_is_reachable_everywhere(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    assert_success(store(http, api_url, user.token, key, {"n": 1}), STORED)
    patched = http.patch(
        data_url(api_url, key),
        data='{"m": 2}',
        headers={**auth_headers(user.token), "Content-Type": "application/merge-patch+json"},
    )
    read = fetch(http, api_url, user.token, key)
    assert_success(update(http, api_url, user.token, key, 5), UPDATED)
    counted = http.post(data_url(api_url, key) + "/increment", headers=auth_headers(user.token))
    removed = delete(http, api_url, user.token, key)

    assert_success(patched, UPDATED)
    assert assert_success(read)["data"] == {"key": key, "value": {"n": 1, "m": 2}, "metadata": None}
    assert assert_success(counted)["data"] == {"key": key, "value": 6}
    assert_success(removed, DELETED)
