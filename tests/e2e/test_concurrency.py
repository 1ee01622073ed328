"""Uniqueness under concurrency: of 20 simultaneous requests that race for one username,
email or key, exactly one wins and the others get the conflict code, never a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    STORED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    data_url,
    delete_quietly,
    fetch,
    registration_body,
    unique_email,
    unique_key,
    unique_username,
)

pytestmark = pytest.mark.e2e

WORKERS = 20
TIMEOUT_SECONDS = 120  # 20 bcrypt hashes at cost 12 may queue on a small machine


def race(send: Callable[[requests.Session, int], requests.Response]) -> list[requests.Response]:
    """Run send(session, i) for i in 0..19 on 20 threads released together; each thread
    has its own session (requests.Session is not thread-safe)."""
    barrier = threading.Barrier(WORKERS)

    def one(index: int) -> requests.Response:
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT_SECONDS)
            return send(session, index)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, range(WORKERS)))


def statuses(responses: list[requests.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def test_parallel_registrations_of_one_username_have_one_winner(api_url: str) -> None:
    """Given 20 registrations of one username with 20 different emails, when they are
    sent at once, then exactly one is 200 and nineteen are 409 USERNAME_EXISTS."""
    username = unique_username("race")
    bodies = [registration_body(username=username, email=unique_email()) for _ in range(WORKERS)]

    responses = race(lambda session, i: register_with(session, api_url, bodies[i]))

    assert statuses(responses) == Counter({200: 1, 409: WORKERS - 1}), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "USERNAME_EXISTS")
        else:
            assert assert_success(response)["data"]["username"] == username


def test_parallel_registrations_of_one_email_have_one_winner(api_url: str) -> None:
    """Given 20 registrations of one email with 20 different usernames, when they are
    sent at once, then exactly one is 200 and nineteen are 409 EMAIL_EXISTS."""
    email = unique_email()
    bodies = [registration_body(email=email) for _ in range(WORKERS)]

    responses = race(lambda session, i: register_with(session, api_url, bodies[i]))

    assert statuses(responses) == Counter({200: 1, 409: WORKERS - 1}), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "EMAIL_EXISTS")


def test_parallel_stores_of_one_key_have_one_winner(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given one user storing one key 20 times at once with 20 different values, when
    the race ends, then exactly one is 200, nineteen are 409 KEY_EXISTS, and the stored
    value is the winner's."""
    key = unique_key("race")
    try:
        responses = race(lambda session, i: store_with(session, api_url, user, key, i))

        assert statuses(responses) == Counter({200: 1, 409: WORKERS - 1}), [
            r.text for r in responses
        ]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        for response in responses:
            if response.status_code == 409:
                assert_error(response, 409, "KEY_EXISTS")
            else:
                assert_success(response, STORED)
        assert fetch(http, api_url, user.token, key).json()["data"]["value"] == {"writer": winner}
    finally:
        delete_quietly(http, api_url, user.token, key)


def test_parallel_stores_of_different_keys_all_succeed(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given one user storing 20 different keys at once, when the race ends, then all 20
    are 200 and every key holds its own value."""
    prefix = unique_key("many")
    keys = [f"{prefix}-{i}" for i in range(WORKERS)]
    try:
        responses = race(lambda session, i: store_with(session, api_url, user, keys[i], i))

        assert statuses(responses) == Counter({200: WORKERS}), [r.text for r in responses]
        for i, key in enumerate(keys):
            assert fetch(http, api_url, user.token, key).json()["data"]["value"] == {"writer": i}
    finally:
        for key in keys:
            delete_quietly(http, api_url, user.token, key)


def test_parallel_deletes_of_one_key_have_one_winner(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a stored key, when it is deleted 20 times at once, then exactly one delete
    is 200 and nineteen are 404 KEY_NOT_FOUND."""
    key = unique_key("race-delete")
    assert_success(store_with(http, api_url, user, key, 0), STORED)
    try:
        responses = race(
            lambda session, _: session.delete(
                data_url(api_url, key), headers=auth_headers(user.token), timeout=TIMEOUT_SECONDS
            )
        )

        assert statuses(responses) == Counter({200: 1, 404: WORKERS - 1}), [
            r.text for r in responses
        ]
        for response in responses:
            if response.status_code == 404:
                assert_error(response, 404, "KEY_NOT_FOUND")
            else:
                assert_success(response, DELETED)
    finally:
        delete_quietly(http, api_url, user.token, key)


def register_with(
    session: requests.Session, api_url: str, body: dict[str, Any]
) -> requests.Response:
    return session.post(f"{api_url}/api/register", json=body, timeout=TIMEOUT_SECONDS)


def store_with(
    session: requests.Session, api_url: str, user: User, key: str, writer: int
) -> requests.Response:
    return session.post(
        f"{api_url}/api/data",
        json={"key": key, "value": {"writer": writer}},
        headers=auth_headers(user.token),
        timeout=TIMEOUT_SECONDS,
    )
