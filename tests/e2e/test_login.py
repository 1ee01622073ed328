"""POST /api/token over HTTP: the token's shape and claims, login by username or email
in any case, MISSING_FIELDS, and one INVALID_CREDENTIALS body for every failure."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    ERRORS,
    JWT_CLAIMS,
    NOT_JSON_OBJECT_BODIES,
    TOKEN_ISSUED,
    TOKEN_LIFETIME_SECONDS,
    Lockout,
    User,
    assert_error,
    assert_success,
    five_failures,
    jwt_parts,
    new_user,
    post_raw,
    request_token,
    unique_email,
    unique_username,
    within_lockouts,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def user(http: requests.Session, api_url: str) -> User:
    """A registered user whose username mixes letter cases."""
    return new_user(http, api_url, username=unique_username("MiXeD"))


@pytest.fixture(scope="module")
def token_response(http: requests.Session, api_url: str, user: User) -> requests.Response:
    """One successful login whose response several tests inspect."""
    return request_token(http, api_url, user.username, user.password)


@pytest.fixture(scope="module")
def long_password_user(http: requests.Session, api_url: str) -> User:
    """A user whose password is exactly 72 bytes, bcrypt's limit."""
    return new_user(http, api_url, password="L" * 72)


# --- success -------------------------------------------------------------------------


def test_token_answers_200_with_the_success_envelope(token_response: requests.Response) -> None:
    """Given a registered user, when it logs in with its credentials, then the answer is
    200 with status success and the exact message."""
    assert_success(token_response, TOKEN_ISSUED)


def test_token_data_is_a_bearer_token_expiring_in_3600_seconds(
    token_response: requests.Response,
) -> None:
    """Given a successful login, when its data is read, then it holds access_token,
    token_type Bearer and expires_in as the integer 3600."""
    data = token_response.json()["data"]

    assert set(data) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert data["token_type"] == "Bearer"
    assert type(data["expires_in"]) is int
    assert data["expires_in"] == TOKEN_LIFETIME_SECONDS


def test_token_access_token_is_a_signed_three_part_jwt(token_response: requests.Response) -> None:
    """Given a successful login, when the access token is split, then it is a JWT of
    three base64url parts whose header names a real signing algorithm."""
    token = token_response.json()["data"]["access_token"]

    header, _, signature = jwt_parts(token)

    assert token.count(".") == 2
    assert header["alg"] in {
        "HS256",
        "HS384",
        "HS512",
        "RS256",
        "RS384",
        "RS512",
        "ES256",
        "ES384",
        "ES512",
        "PS256",
        "EdDSA",
    }
    assert len(signature) >= 32


def test_token_payload_carries_every_required_claim(token_response: requests.Response) -> None:
    """Given a successful login, when the payload is decoded (no verification), then it
    has sub, iat, exp, iss, aud and jti."""
    _, payload, _ = jwt_parts(token_response.json()["data"]["access_token"])

    assert set(JWT_CLAIMS) <= set(payload)
    assert isinstance(payload["jti"], str)
    assert payload["jti"]
    assert payload["iss"]
    assert payload["aud"]


def test_token_lifetime_is_3600_seconds_from_now(token_response: requests.Response) -> None:
    """Given a fresh token, when its claims are read, then exp - iat is 3600 and iat is
    close to the current time."""
    _, payload, _ = jwt_parts(token_response.json()["data"]["access_token"])

    assert payload["exp"] - payload["iat"] == TOKEN_LIFETIME_SECONDS
    assert abs(payload["iat"] - time.time()) < 600  # generous for a remote stack's clock


def test_token_subject_is_the_user_id(token_response: requests.Response, user: User) -> None:
    """Given a user registered with some user_id, when it logs in, then the token's sub
    is that user_id."""
    _, payload, _ = jwt_parts(token_response.json()["data"]["access_token"])

    assert payload["sub"] == user.user_id


def test_token_each_login_gets_a_new_jti(
    http: requests.Session, api_url: str, user: User, token_response: requests.Response
) -> None:
    """Given one token already issued, when the user logs in again, then the new token
    has another jti."""
    again = request_token(http, api_url, user.username, user.password)

    _, first, _ = jwt_parts(token_response.json()["data"]["access_token"])
    _, second, _ = jwt_parts(again.json()["data"]["access_token"])
    assert first["jti"] != second["jti"]


@pytest.mark.parametrize("change_case", [str.upper, str.lower, str.swapcase])
def test_token_username_matching_is_case_insensitive(
    http: requests.Session, api_url: str, user: User, change_case: Any
) -> None:
    """Given a registered user, when it logs in with its username in another case, then
    it gets a token for its own user_id."""
    response = request_token(http, api_url, change_case(user.username), user.password)

    data = assert_success(response, TOKEN_ISSUED)["data"]
    assert jwt_parts(data["access_token"])[1]["sub"] == user.user_id


def test_token_login_by_email(http: requests.Session, api_url: str, user: User) -> None:
    """Given a registered user, when it logs in with its email as the username, then
    it gets a token for its own user_id."""
    response = request_token(http, api_url, user.email, user.password)

    data = assert_success(response, TOKEN_ISSUED)["data"]
    assert jwt_parts(data["access_token"])[1]["sub"] == user.user_id


def test_token_login_by_email_in_another_case(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a registered user, when it logs in with its email upper-cased, then it
    gets a token (emails are unique case-insensitively, so this is unambiguous)."""
    response = request_token(http, api_url, user.email.upper(), user.password)

    assert_success(response, TOKEN_ISSUED)


def test_token_accepts_a_72_byte_password(
    http: requests.Session, api_url: str, long_password_user: User
) -> None:
    """Given a user with a 72-byte password, when it logs in with it, then it gets a
    token."""
    response = request_token(
        http, api_url, long_password_user.username, long_password_user.password
    )

    assert_success(response, TOKEN_ISSUED)


def test_token_ignores_unknown_fields(http: requests.Session, api_url: str, user: User) -> None:
    """Given a login carrying extra fields, when posted, then they are ignored and the
    login succeeds."""
    body = {"username": user.username, "password": user.password, "scope": "admin", "sub": "x"}

    response = http.post(f"{api_url}/api/token", json=body)

    data = assert_success(response, TOKEN_ISSUED)["data"]
    assert jwt_parts(data["access_token"])[1]["sub"] == user.user_id


# --- MISSING_FIELDS ----------------------------------------------------------------------

MISSING_FIELD_BODIES: dict[str, dict[str, Any]] = {
    "empty-object": {},
    "username-missing": {"password": "some-password-1"},
    "password-missing": {"username": "someone"},
    "username-null": {"username": None, "password": "some-password-1"},
    "password-null": {"username": "someone", "password": None},
    "username-empty": {"username": "", "password": "some-password-1"},
    "username-blank": {"username": "   ", "password": "some-password-1"},
    "password-empty": {"username": "someone", "password": ""},
    "password-blank": {"username": "someone", "password": "\t  "},
    "username-number": {"username": 42, "password": "some-password-1"},
    "password-number": {"username": "someone", "password": 12345678},
    "password-boolean": {"username": "someone", "password": True},
    "username-list": {"username": ["someone"], "password": "some-password-1"},
    "password-object": {"username": "someone", "password": {"p": "x"}},
}


@pytest.mark.parametrize(
    "body", list(MISSING_FIELD_BODIES.values()), ids=list(MISSING_FIELD_BODIES)
)
def test_token_refuses_missing_blank_or_non_string_fields(
    http: requests.Session, api_url: str, body: dict[str, Any]
) -> None:
    """Given a login whose username or password is missing, blank or not a string, when
    posted, then the answer is MISSING_FIELDS."""
    response = http.post(f"{api_url}/api/token", json=body)

    assert_error(response, 400, "MISSING_FIELDS")


def test_token_missing_fields_wins_for_a_real_user(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a real username and a blank password, when posted, then the answer is
    MISSING_FIELDS, not INVALID_CREDENTIALS."""
    response = request_token(http, api_url, user.username, " ")

    assert_error(response, 400, "MISSING_FIELDS")


# --- INVALID_CREDENTIALS --------------------------------------------------------------


def bad_credentials(user: User, case: str) -> tuple[str, str]:
    return {
        "unknown-user": (unique_username("nobody"), user.password),
        "unknown-email": (f"{unique_username('nobody')}@example.com", user.password),
        "wrong-password": (user.username, user.password + "-wrong"),
        "password-other-case": (user.username, user.password.upper()),
        "password-73-bytes": (user.username, "p" * 73),
        "password-200-bytes": (user.username, "p" * 200),
        "wrong-password-by-email": (user.email, "not-the-password-1"),
        "username-too-long-for-any-account": ("u" * 300, user.password),
    }[case]


BAD_CREDENTIAL_CASES = [
    "unknown-user",
    "unknown-email",
    "wrong-password",
    "password-other-case",
    "password-73-bytes",
    "password-200-bytes",
    "wrong-password-by-email",
    "username-too-long-for-any-account",
]


@pytest.mark.parametrize("case", BAD_CREDENTIAL_CASES)
def test_token_refuses_bad_credentials(
    http: requests.Session, api_url: str, user: User, case: str
) -> None:
    """Given an unknown user, a wrong password or an overlong password, when posted,
    then the answer is 401 INVALID_CREDENTIALS with no details."""
    username, password = bad_credentials(user, case)

    response = request_token(http, api_url, username, password)

    body = assert_error(response, 401, "INVALID_CREDENTIALS")
    assert "details" not in body


def test_token_refuses_the_72_byte_password_plus_one_byte(
    http: requests.Session, api_url: str, long_password_user: User
) -> None:
    """Given a user with a 72-byte password, when it logs in with that password plus
    one more byte, then the answer is INVALID_CREDENTIALS (nothing is truncated)."""
    response = request_token(
        http, api_url, long_password_user.username, long_password_user.password + "L"
    )

    assert_error(response, 401, "INVALID_CREDENTIALS")


def test_token_failures_are_indistinguishable(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given an unknown user, a wrong password and a 73-byte password, when each logs
    in, then the three answers have the same status, headers' content type and body.
    (A user of its own: the module's user has failed logins enough to be locked out.)"""
    user = new_user(http, api_url)
    responses = [
        request_token(http, api_url, unique_username("nobody"), user.password),
        request_token(http, api_url, user.username, "wrong-password-9"),
        request_token(http, api_url, user.username, "x" * 73),
    ]

    status, message = ERRORS["INVALID_CREDENTIALS"]
    expected = {"status": "error", "code": "INVALID_CREDENTIALS", "message": message}
    assert [r.status_code for r in responses] == [status] * 3
    assert [r.headers.get("Content-Type") for r in responses] == [
        responses[0].headers.get("Content-Type")
    ] * 3
    assert [r.json() for r in responses] == [expected] * 3
    assert len({r.content for r in responses}) == 1


# --- bodies that are not JSON objects --------------------------------------------------


@pytest.mark.parametrize(
    "raw", list(NOT_JSON_OBJECT_BODIES.values()), ids=list(NOT_JSON_OBJECT_BODIES)
)
def test_token_refuses_bodies_that_are_not_json_objects(
    http: requests.Session, api_url: str, raw: bytes
) -> None:
    """Given a body that is malformed JSON or a JSON value other than an object, when
    posted to /api/token, then the answer is INVALID_REQUEST."""
    response = post_raw(http, f"{api_url}/api/token", raw)

    assert_error(response, 400, "INVALID_REQUEST")


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


def outcome(response: requests.Response) -> object:
    """The status code, or ("locked", Retry-After) for a lockout answer (its body checked)."""
    if response.status_code == 429:
        return ("locked", locked(response))
    return response.status_code


def lockout_sequence(
    http: requests.Session, api_url: str, name: str, lockout: Lockout
) -> list[object]:
    """Five failures, the lockout, a failure after it, the doubled lockout."""
    failures = five_failures(lambda: attempt(http, api_url, name), lockout)
    seen: list[object] = [failure.status_code for failure in failures]
    seen.append(outcome(attempt(http, api_url, name)))
    lockout.checked()
    time.sleep(1.2)
    lockout.starts(2)
    seen.append(attempt(http, api_url, name).status_code)
    seen.append(outcome(attempt(http, api_url, name)))
    return seen


def test_five_failures_lock_the_name_with_retry_after_doubling(
    http: requests.Session, api_url: str
) -> None:
    def scenario(lockout: Lockout) -> tuple[User, list[object]]:
        user = new_user(http, api_url)
        return user, lockout_sequence(http, api_url, user.username, lockout)

    user, sequence = within_lockouts(scenario)

    assert sequence == [401] * 5 + [("locked", 1), 401, ("locked", 2)]
    time.sleep(2.2)  # a success after the lockout resets the count
    assert attempt(http, api_url, user.username.upper(), user.password).status_code == 200
    assert [attempt(http, api_url, user.username).status_code for _ in range(5)] == [401] * 5


def test_a_locked_name_is_refused_even_with_the_right_password(
    http: requests.Session, api_url: str
) -> None:
    def scenario(lockout: Lockout) -> requests.Response:
        user = new_user(http, api_url)
        five_failures(lambda: attempt(http, api_url, user.email), lockout)
        return attempt(http, api_url, user.email.upper(), user.password)

    assert locked(within_lockouts(scenario)) >= 1


def test_names_without_an_account_behave_the_same(http: requests.Session, api_url: str) -> None:
    sequence = within_lockouts(
        lambda lockout: lockout_sequence(http, api_url, unique_username("ghost"), lockout)
    )

    assert sequence == [401] * 5 + [("locked", 1), 401, ("locked", 2)]


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
    # A first call starts the function (its cold start must not outlast the lockout below).
    users_login = f"{api_url}/users/login"
    assert (
        http.post(users_login, json={"email": unique_email(), "password": WRONG}).status_code == 401
    )

    def scenario(lockout: Lockout) -> requests.Response:
        user = new_user(http, api_url)
        failures = five_failures(lambda: attempt(http, api_url, user.email), lockout)
        assert [failure.status_code for failure in failures] == [401] * 5
        return http.post(users_login, json={"email": user.email, "password": user.password})

    response = within_lockouts(scenario)

    assert response.status_code == 429
    assert response.json() == {"message": "Too many requests. Please try again later."}
    assert int(response.headers["Retry-After"]) >= 1
    assert "Retry-After" in response.headers.get("Access-Control-Expose-Headers", "")
