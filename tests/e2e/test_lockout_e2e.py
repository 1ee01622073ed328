"""Login protection over HTTP (SPEC.md, "Login protection"): 5 failures, then 429 with
Retry-After doubling; names without an account alike; exact under concurrency; shared by
/api/token and /users/login."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.helpers import ERRORS, new_user, request_token, unique_email, unique_username

WRONG = "wrong-password-123"


def attempt(
    http: requests.Session, api_url: str, name: str, password: str = WRONG
) -> requests.Response:
    return request_token(http, api_url, name, password)


def locked(response: requests.Response) -> int:
    """The Retry-After of a lockout answer (asserts it is one)."""
    status, message = ERRORS["TOO_MANY_REQUESTS"]
    assert response.status_code == status, response.text
    assert response.json() == {"status": "error", "code": "TOO_MANY_REQUESTS", "message": message}
    return int(response.headers["Retry-After"])


def lockout_sequence(http: requests.Session, api_url: str, name: str) -> list[object]:
    """Five failures, the lockout, a failure after it, the doubled lockout."""
    seen: list[object] = [attempt(http, api_url, name).status_code for _ in range(5)]
    seen.append(("locked", locked(attempt(http, api_url, name))))
    time.sleep(1.2)
    seen.append(attempt(http, api_url, name).status_code)
    seen.append(("locked", locked(attempt(http, api_url, name))))
    return seen


def test_five_failures_lock_the_name_with_retry_after_doubling(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)

    sequence = lockout_sequence(http, api_url, user.username)

    assert sequence == [401] * 5 + [("locked", 1), 401, ("locked", 2)]
    time.sleep(2.2)  # a success after the lockout resets the count
    assert attempt(http, api_url, user.username.upper(), user.password).status_code == 200
    assert [attempt(http, api_url, user.username).status_code for _ in range(5)] == [401] * 5


def test_a_locked_name_is_refused_even_with_the_right_password(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)
    for _ in range(5):
        attempt(http, api_url, user.email)

    assert locked(attempt(http, api_url, user.email.upper(), user.password)) >= 1


def test_names_without_an_account_behave_the_same(http: requests.Session, api_url: str) -> None:
    assert lockout_sequence(http, api_url, unique_username("ghost")) == (
        [401] * 5 + [("locked", 1), 401, ("locked", 2)]
    )


def test_twenty_parallel_wrong_guesses_get_five_password_checks(
    http: requests.Session, api_url: str
) -> None:
    """Counted before the password check: exactly 5 answers of 401 and 15 of 429."""
    user = new_user(http, api_url)

    def guess(_: int) -> int:
        with requests.Session() as session:
            return attempt(session, api_url, user.username).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(guess, range(20)))

    assert statuses == [401] * 5 + [429] * 15


def test_users_login_shares_the_count(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)
    # A first call starts the function (its cold start must not outlast the lockout below).
    users_login = f"{api_url}/users/login"
    assert (
        http.post(users_login, json={"email": unique_email(), "password": WRONG}).status_code == 401
    )
    for _ in range(5):
        assert attempt(http, api_url, user.email).status_code == 401

    response = http.post(
        f"{api_url}/users/login", json={"email": user.email, "password": user.password}
    )

    assert response.status_code == 429
    assert response.json() == {"message": "Too many requests. Please try again later."}
    assert int(response.headers["Retry-After"]) >= 1
    assert "Retry-After" in response.headers.get("Access-Control-Expose-Headers", "")
