"""The TOKEN authorizer seen over HTTP: every way of presenting a bad token answers
401 INVALID_TOKEN with the contract's envelope, before the body is even looked at.

The suite holds no signing key, so tokens that are expired or carry a wrong iss, aud or
sub cannot be minted with a valid signature. Those cases tamper the payload of a real
token and keep its (now non-matching) signature: they prove such a token is refused,
though a signature check alone would already refuse it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.e2e.helpers import (
    STORED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    data_url,
    delete_quietly,
    fetch,
    new_user,
    post_raw,
    store,
    unique_key,
    unsigned,
    with_flipped_signature,
    with_header,
    with_payload,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def other_user(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture(scope="module")
def stored_key(http: requests.Session, api_url: str, user: User) -> Iterator[str]:
    """A key the user owns, to aim rejected requests at."""
    key = unique_key("auth")
    assert_success(store(http, api_url, user.token, key, "original"), STORED)
    yield key
    delete_quietly(http, api_url, user.token, key)


def now() -> int:
    return int(time.time())


# Each case turns the user's real token (and another user's id) into the header sent;
# None means no Authorization header at all.
HEADER_CASES: dict[str, Callable[[str, str], str | None]] = {
    "no-header": lambda token, _: None,
    "empty-header": lambda token, _: "",
    "basic-scheme": lambda token, _: "Basic dXNlcjpwYXNzd29yZA==",
    "other-scheme-with-real-token": lambda token, _: f"Token {token}",
    "raw-token-without-scheme": lambda token, _: token,
    "bearer-alone": lambda token, _: "Bearer",
    "bearer-and-space": lambda token, _: "Bearer ",
    "bearer-garbage": lambda token, _: "Bearer garbage",
    "bearer-three-garbage-parts": lambda token, _: "Bearer abc.def.ghi",
    "bearer-token-and-trailing-text": lambda token, _: f"Bearer {token} extra",
    "bearer-twice": lambda token, _: f"Bearer Bearer {token}",
    "truncated-token": lambda token, _: f"Bearer {token[:-10]}",
    "bad-signature": lambda token, _: f"Bearer {with_flipped_signature(token)}",
    "signature-removed": lambda token, _: f"Bearer {token.rsplit('.', 1)[0]}.",
    "alg-none": lambda token, _: f"Bearer {unsigned(token)}",
    "alg-switched-to-hs512": lambda token, _: f"Bearer {with_header(token, alg='HS512')}",
    # Tampered payloads below keep the original signature (see the module docstring).
    "expired": lambda token, _: f"Bearer {with_payload(token, iat=now() - 7200, exp=now() - 3600)}",
    "wrong-issuer": lambda token, _: f"Bearer {with_payload(token, iss='https://evil.example')}",
    "wrong-audience": lambda token, _: f"Bearer {with_payload(token, aud='someone-else')}",
    "missing-exp": lambda token, _: f"Bearer {with_payload(token, exp=None)}",
    "missing-sub": lambda token, _: f"Bearer {with_payload(token, sub=None)}",
    "other-users-sub": lambda token, other: f"Bearer {with_payload(token, sub=other)}",
}


@pytest.mark.parametrize("make_header", list(HEADER_CASES.values()), ids=list(HEADER_CASES))
def test_rejected_tokens_answer_invalid_token(
    http: requests.Session,
    api_url: str,
    user: User,
    other_user: User,
    stored_key: str,
    make_header: Callable[[str, str], str | None],
) -> None:
    """Given a key the user owns, when it is read with a missing, malformed, forged,
    tampered or foreign-scheme Authorization header, then the answer is 401
    INVALID_TOKEN with the envelope."""
    header = make_header(user.token, other_user.user_id)
    headers = {} if header is None else {"Authorization": header}

    response = http.get(data_url(api_url, stored_key), headers=headers)

    assert_error(response, 401, "INVALID_TOKEN")


def test_a_denied_token_answers_exactly_what_a_missing_token_answers(
    http: requests.Session, api_url: str, user: User, stored_key: str
) -> None:
    """Given a token the authorizer denies (an explicit Deny, API Gateway's ACCESS_DENIED)
    and no token at all (API Gateway's own 401), the answers are the same 401
    INVALID_TOKEN: status, body, Content-Type and CORS headers."""
    expired = with_payload(user.token, iat=now() - 7200, exp=now() - 3600)
    denied = http.get(data_url(api_url, stored_key), headers=auth_headers(expired))
    denied_again = http.get(data_url(api_url, stored_key), headers=auth_headers(expired))
    missing = http.get(data_url(api_url, stored_key))

    def shape(response: requests.Response) -> tuple[int, bytes, dict[str, str | None]]:
        names = ("Content-Type", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers")
        return response.status_code, response.content, {n: response.headers.get(n) for n in names}

    assert_error(denied, 401, "INVALID_TOKEN")
    assert shape(denied) == shape(denied_again) == shape(missing)


ROUTES = [
    ("GET", "/api/data"),
    ("POST", "/api/data"),
    ("GET", "/api/data/some-key"),
    ("PUT", "/api/data/some-key"),
    ("DELETE", "/api/data/some-key"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_data_route_requires_a_token(
    http: requests.Session, api_url: str, method: str, path: str
) -> None:
    """Given no Authorization header, when any /api/data route is called with a valid
    body, then the answer is 401 INVALID_TOKEN."""
    response = http.request(method, f"{api_url}{path}", json={"key": "some-key", "value": 1})

    assert_error(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_data_route_refuses_a_bad_signature(
    http: requests.Session, api_url: str, user: User, method: str, path: str
) -> None:
    """Given a real token with a corrupted signature, when any /api/data route is called,
    then the answer is 401 INVALID_TOKEN."""
    headers = auth_headers(with_flipped_signature(user.token))

    response = http.request(
        method, f"{api_url}{path}", json={"key": "some-key", "value": 1}, headers=headers
    )

    assert_error(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_auth_is_checked_before_the_body(http: requests.Session, api_url: str, method: str) -> None:
    """Given a garbage token and a malformed body, when POST or PUT is called, then the
    answer is 401 INVALID_TOKEN, not INVALID_REQUEST."""
    url = f"{api_url}/api/data" if method == "POST" else f"{api_url}/api/data/some-key"

    response = http.request(
        method,
        url,
        data=b'{"key": ',
        headers={"Authorization": "Bearer garbage", "Content-Type": "application/json"},
    )

    assert_error(response, 401, "INVALID_TOKEN")


def test_auth_is_checked_before_the_body_when_the_header_is_missing(
    http: requests.Session, api_url: str
) -> None:
    """Given no token and a body that is a JSON array, when POST /api/data is called,
    then the answer is 401 INVALID_TOKEN."""
    response = post_raw(http, f"{api_url}/api/data", b"[1, 2, 3]")

    assert_error(response, 401, "INVALID_TOKEN")


def test_rejected_delete_leaves_the_key_in_place(
    http: requests.Session, api_url: str, user: User, stored_key: str
) -> None:
    """Given a stored key, when a DELETE with a forged alg-none token is refused, then
    the key is still readable by its owner with its original value."""
    forged = auth_headers(unsigned(user.token))

    refused = http.delete(data_url(api_url, stored_key), headers=forged)
    after = fetch(http, api_url, user.token, stored_key)

    assert_error(refused, 401, "INVALID_TOKEN")
    assert assert_success(after)["data"] == {
        "key": stored_key,
        "value": "original",
        "metadata": None,
    }


def test_rejected_update_leaves_the_value_unchanged(
    http: requests.Session, api_url: str, user: User, stored_key: str
) -> None:
    """Given a stored key, when a PUT with an expired (tampered) token is refused, then
    the value is unchanged."""
    expired = with_payload(user.token, iat=now() - 7200, exp=now() - 3600)

    refused = http.put(
        data_url(api_url, stored_key), json={"value": "hijacked"}, headers=auth_headers(expired)
    )
    after = fetch(http, api_url, user.token, stored_key)

    assert_error(refused, 401, "INVALID_TOKEN")
    assert assert_success(after)["data"]["value"] == "original"


def test_a_valid_token_is_accepted(
    http: requests.Session, api_url: str, user: User, stored_key: str
) -> None:
    """Given the user's real token, when it reads its key, then the answer is 200 (the
    control case of the rejections above)."""
    response = fetch(http, api_url, user.token, stored_key)

    assert assert_success(response)["data"] == {
        "key": stored_key,
        "value": "original",
        "metadata": None,
    }


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(
    http: requests.Session, api_url: str, user: User, stored_key: str, scheme: str
) -> None:
    """Given the user's real token, when it is sent with the scheme in another letter
    case, then it is accepted (auth schemes are case-insensitive, RFC 7235)."""
    response = http.get(
        data_url(api_url, stored_key), headers={"Authorization": f"{scheme} {user.token}"}
    )

    assert assert_success(response)["data"]["value"] == "original"


def test_one_token_is_accepted_on_every_route_in_turn(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given one token (whose authorizer decision may be cached), when it stores, reads,
    updates and deletes a key in turn, then every call is allowed: a cached decision
    must cover every route, not only the first one called."""
    key = unique_key("every-route")
    try:
        assert_success(store(http, api_url, user.token, key, 1), STORED)
        assert_success(fetch(http, api_url, user.token, key))
        assert_success(
            http.put(data_url(api_url, key), json={"value": 2}, headers=auth_headers(user.token))
        )
        assert_success(http.delete(data_url(api_url, key), headers=auth_headers(user.token)))
    finally:
        delete_quietly(http, api_url, user.token, key)


def test_a_valid_token_reaches_the_function(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given the user's real token, when it reads a key it never stored, then the answer
    is the function's 404 KEY_NOT_FOUND, not a 401."""
    response = fetch(http, api_url, user.token, unique_key("never-stored"))

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_a_token_of_another_user_is_valid_for_that_user_only(
    http: requests.Session, api_url: str, other_user: User, stored_key: str
) -> None:
    """Given another user's real token, when it reads the first user's key, then the
    answer is KEY_NOT_FOUND (authenticated, but not the owner)."""
    response = fetch(http, api_url, other_user.token, stored_key)

    assert_error(response, 404, "KEY_NOT_FOUND")
