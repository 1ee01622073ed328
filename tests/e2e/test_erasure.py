"""Erasure through the authorizer's cache: a deleted account's token, whose Allow API
Gateway still holds for AuthorizerCacheTtl seconds, can store keys after the purge ran;
the purge's second pass (its recheck marker's TTL removal) removes them too.

The stack here caches decisions for 10 s and rechecks 2 s after that; its TTL sweeper
stands in for DynamoDB's TTL process (lockbox_local.ttl), which in AWS runs later (days).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    assert_error,
    auth_headers,
    data_url,
    new_user,
    store,
)
from tests.local_stack import LocalStackProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="looks at the local stack's DynamoDB and needs its short authorizer cache",
    ),
]

CACHE_SECONDS = 10
RECHECK_MARGIN_SECONDS = 2
WAIT_SECONDS = 90.0  # the cache, the margin, the sweeper and the stream, on a busy machine


@pytest.fixture(scope="module")
def erasing_stack() -> Iterator[LocalStackProcess]:
    with tempfile.TemporaryDirectory(prefix="lockbox-e2e-erasure-") as work_dir:
        stack = LocalStackProcess(
            Path(work_dir),
            extra_args=(
                "--workers-per-function",
                "1",
                "--parameter",
                f"AuthorizerCacheTtl={CACHE_SECONDS}",
                "--parameter",
                f"ErasureRecheckMargin={RECHECK_MARGIN_SECONDS}",
                "--parameter",
                "BcryptCost=4",
            ),
        )
        stack.wait_until_serving()
        try:
            yield stack
        finally:
            stack.stop()


def dynamodb_of(stack: LocalStackProcess) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{stack.dynamodb_port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def keys_of(client: Any, user_id: str) -> list[str]:
    answer = client.query(
        TableName="ItemsTable",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ConsistentRead=True,
    )
    return sorted(item["key"]["S"] for item in answer["Items"])


def marker_of(client: Any, user_id: str) -> dict[str, Any] | None:
    found = client.get_item(
        TableName="UsersTable", Key={"pk": {"S": f"PURGE#{user_id}"}}, ConsistentRead=True
    )
    item: dict[str, Any] | None = found.get("Item")
    return item


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def test_keys_stored_through_a_cached_decision_after_the_deletion_are_purged(
    erasing_stack: LocalStackProcess,
) -> None:
    """Given a user whose token's Allow is cached, when the account is deleted, the first
    purge has run, and the same token stores more keys while the Allow is still cached,
    then the second pass removes them: none of the user's keys is left."""
    url = erasing_stack.url
    client = dynamodb_of(erasing_stack)
    with requests.Session() as http:
        user = new_user(http, url)
        assert store(http, url, user.token, "before", 1).status_code == 200  # Allow cached
        cached_from = time.monotonic()

        deleted = http.delete(
            f"{url}/api/account",
            json={"password": user.password},
            headers=auth_headers(user.token),
        )
        assert deleted.status_code == 200, deleted.text
        assert wait_for(lambda: marker_of(client, user.user_id) is not None, CACHE_SECONDS / 2)
        assert wait_for(lambda: keys_of(client, user.user_id) == [], CACHE_SECONDS / 2)

        late = [store(http, url, user.token, f"after-{n}", n) for n in range(3)]
        assert time.monotonic() - cached_from < CACHE_SECONDS, "the cache ran out: too slow"

        assert [response.status_code for response in late] == [200, 200, 200]
        assert keys_of(client, user.user_id) == ["after-0", "after-1", "after-2"]
        assert wait_for(lambda: keys_of(client, user.user_id) == [], WAIT_SECONDS)
        assert marker_of(client, user.user_id) is None
        assert_error(
            http.get(data_url(url, "after-0"), headers=auth_headers(user.token)),
            401,
            "INVALID_TOKEN",
        )
