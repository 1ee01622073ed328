"""POST /api/data/{key}/increment over HTTP: exact decimal sums, counters that lose no
increment under concurrency, and the contract's refusals."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import (
    STORED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    data_url,
    detail_fields,
    fetch,
    store,
    unique_key,
)
from tests.e2e.test_concurrency import race

pytestmark = pytest.mark.e2e


def increment(
    http: requests.Session, api_url: str, token: str, key: str, body: str | None = None
) -> requests.Response:
    headers = {**auth_headers(token), "Content-Type": "application/json"}
    return http.post(data_url(api_url, key) + "/increment", data=body, headers=headers)


def test_20_parallel_increments_of_a_fresh_key_answer_exactly_1_to_20(
    api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: 20 increments by 1 of a fresh key sent at once answer 1..20, each once,
    and the key then holds 20."""
    key = unique_key("counter")
    cleanup.append(key)

    responses = race(lambda session, _: increment(session, api_url, user.token, key))

    values = sorted(assert_success(response)["data"]["value"] for response in responses)
    assert values == list(range(1, 21))
    with requests.Session() as http:
        assert assert_success(fetch(http, api_url, user.token, key))["data"]["value"] == 20


def test_point_one_plus_point_two_is_point_three_in_the_raw_response(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: 0.1 + 0.2 is 0.3 in the raw response text, not 0.30000000000000004."""
    key = unique_key("sum")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, 0.1), STORED)

    response = increment(http, api_url, user.token, key, '{"by": 0.2}')

    assert response.status_code == 200
    assert response.text.endswith('"value":0.3}}')
    assert fetch(http, api_url, user.token, key).text.endswith('"value":0.3,"metadata":null}}')


def test_an_absent_key_starts_from_zero_and_an_empty_body_adds_one(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("fresh")
    cleanup.append(key)

    first = increment(http, api_url, user.token, key)
    second = increment(http, api_url, user.token, key, '{"by": -3.5}')

    assert assert_success(first)["data"] == {"key": key, "value": 1}
    assert second.headers["ETag"] == fetch(http, api_url, user.token, key).headers["ETag"]
    assert second.text.endswith('"value":-2.5}}')


def test_an_existing_key_keeps_its_expiry_and_metadata(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("kept")
    cleanup.append(key)
    body = {"key": key, "value": 7, "ttl": 3600, "metadata": {"unit": "pages"}}
    assert_success(http.post(f"{api_url}/api/data", json=body, headers=auth_headers(user.token)))
    listed_before = http.get(
        f"{api_url}/api/data", params={"prefix": key}, headers=auth_headers(user.token)
    )

    response = increment(http, api_url, user.token, key)

    listed = http.get(
        f"{api_url}/api/data", params={"prefix": key}, headers=auth_headers(user.token)
    )
    assert assert_success(response)["data"]["value"] == 8
    entry = assert_success(listed)["data"]["keys"][0]
    before = assert_success(listed_before)["data"]["keys"][0]
    assert (entry["expires_at"], entry["metadata"]) == (before["expires_at"], {"unit": "pages"})


def test_a_stored_value_that_is_not_a_number_is_value_not_a_number(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = unique_key("text")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, "12"), STORED)

    assert_error(increment(http, api_url, user.token, key), 409, "VALUE_NOT_A_NUMBER")
    assert assert_success(fetch(http, api_url, user.token, key))["data"]["value"] == "12"


@pytest.mark.parametrize("body", ['{"by": "1"}', '{"by": null}', '{"by": true}'])
def test_a_by_that_is_not_a_json_number_is_invalid_value(
    http: requests.Session, api_url: str, user: User, body: str
) -> None:
    response = increment(http, api_url, user.token, unique_key("n"), body)

    assert detail_fields(assert_error(response, 400, "INVALID_VALUE")) == {"by"}


def test_a_body_that_is_not_a_json_object_is_invalid_request(
    http: requests.Session, api_url: str, user: User
) -> None:
    assert_error(
        increment(http, api_url, user.token, unique_key("n"), "[1]"), 400, "INVALID_REQUEST"
    )


def test_without_a_token_is_invalid_token(http: requests.Session, api_url: str) -> None:
    response = http.post(data_url(api_url, "n") + "/increment")

    assert_error(response, 401, "INVALID_TOKEN")


def test_another_users_counter_of_that_name_is_untouched(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    key = unique_key("mine")
    cleanup.append(key)
    assert_success(store(http, api_url, user.token, key, 10), STORED)

    theirs = increment(http, api_url, other.token, key)

    assert assert_success(theirs)["data"]["value"] == 1
    assert assert_success(fetch(http, api_url, user.token, key))["data"]["value"] == 10
    http.delete(data_url(api_url, key), headers=auth_headers(other.token))
