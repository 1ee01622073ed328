"""POST /users/register (the second registration flavour) over HTTP: the 201 shape, each
field rule with its message, every problem at once, bodies that are not JSON objects,
email uniqueness shared with /api/register (both orders, and under a race), the token on
/api/data and login by email at /api/token.

(Named *_e2e.py: tests/handlers/test_users_register.py has the plain name, and pytest's
default import mode needs distinct basenames in directories without __init__.py.)
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    DEFAULT_PASSWORD,
    DELETED,
    JWT_CLAIMS,
    NOT_JSON_OBJECT_BODIES,
    STORED,
    TOKEN_ISSUED,
    TOKEN_LIFETIME_SECONDS,
    assert_error,
    assert_json,
    assert_success,
    auth_headers,
    delete,
    delete_quietly,
    detail_fields,
    fetch,
    jwt_parts,
    post_raw,
    register,
    registration_body,
    request_token,
    store,
    unique_email,
    unique_key,
    with_flipped_signature,
)

pytestmark = pytest.mark.e2e

EMAIL_TAKEN = {
    "type": "field",
    "msg": "Email is already registered",
    "param": "email",
    "path": "email",
    "location": "body",
}
FIRST_NAME_SHORT = "First name must be at least 3 characters long"
LAST_NAME_SHORT = "Last name must be at least 3 characters long"
FULLNAME_NOT_OBJECT = "Full name must be an object with firstname and lastname"
INVALID_EMAIL = "Invalid Email"
EMAIL_SHORT = "Email must be at least 5 characters long"
PASSWORD_SHORT = "Password must be at least 6 characters long"
PASSWORD_LONG = "Password must be at most 72 bytes long"

MISSING = object()  # a field left out of the body
RACERS_PER_CALL = 10
RACE_TIMEOUT_SECONDS = 120  # 20 bcrypt hashes at cost 12 may queue on a small machine


def signup_body(**overrides: Any) -> dict[str, Any]:
    """A valid /users/register body for a fresh email; MISSING removes a field. Its
    password is also valid for /api/register (8+ bytes, not a common password)."""
    body: dict[str, Any] = {
        "fullname": {"firstname": "Grace", "lastname": "Hopper"},
        "email": unique_email(),
        "password": DEFAULT_PASSWORD,
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not MISSING}


def users_register(http: requests.Session, api_url: str, body: Any) -> requests.Response:
    return http.post(f"{api_url}/users/register", json=body)


def assert_created(response: requests.Response) -> dict[str, Any]:
    """A 201 with a JSON object body: the body."""
    assert response.status_code == 201, f"{response.status_code}: {response.text[:500]}"
    body = assert_json(response)
    assert isinstance(body, dict), body
    return body


def assert_refused(response: requests.Response, *problems: tuple[str, str]) -> None:
    """A 400 listing exactly these (param, msg) problems, in any order, each in the body."""
    assert response.status_code == 400, f"{response.status_code}: {response.text[:500]}"
    body = assert_json(response)
    assert set(body) == {"errors"}, body
    expected = [
        {"type": "field", "msg": msg, "param": param, "path": param, "location": "body"}
        for param, msg in problems
    ]
    assert sorted(body["errors"], key=_by_param) == sorted(expected, key=_by_param), body


def _by_param(entry: dict[str, Any]) -> tuple[str, str]:
    return str(entry.get("param", "")), str(entry.get("msg", ""))


def assert_email_taken(response: requests.Response) -> None:
    """The exact 400 of an email already registered."""
    assert response.status_code == 400, f"{response.status_code}: {response.text[:500]}"
    assert assert_json(response) == {"errors": [EMAIL_TAKEN]}


@pytest.fixture(scope="module")
def member(http: requests.Session, api_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One account made here, shared by the tests that only use it: (request, answer)."""
    body = signup_body()
    return body, assert_created(users_register(http, api_url, body))


# --- success -------------------------------------------------------------------------


def test_users_register_answers_201_with_token_and_user(
    http: requests.Session, api_url: str
) -> None:
    """Given the documented body with a fresh email, when it is posted, then the answer
    is 201 with exactly {token, user{_id, fullname, email, socketId: null}}, echoing
    what was sent."""
    body = signup_body(fullname={"firstname": "John", "lastname": "Doe"})

    answer = assert_created(users_register(http, api_url, body))

    assert set(answer) == {"token", "user"}
    assert set(answer["user"]) == {"_id", "fullname", "email", "socketId"}
    assert answer["user"]["fullname"] == {"firstname": "John", "lastname": "Doe"}
    assert answer["user"]["email"] == body["email"]
    assert answer["user"]["socketId"] is None
    assert isinstance(answer["user"]["_id"], str)
    assert answer["user"]["_id"]
    assert isinstance(answer["token"], str)
    assert len(answer["token"].split(".")) == 3


def test_users_register_never_returns_the_password_or_its_hash(
    http: requests.Session, api_url: str
) -> None:
    """Given a registration, when its raw answer is read, then neither the password, a
    password field, nor a bcrypt hash appears anywhere in it."""
    body = signup_body()

    response = users_register(http, api_url, body)

    token = assert_created(response)["token"]
    text = response.text.replace(token, "<token>")  # random base64 could spell anything
    assert body["password"] not in text
    assert "password" not in text.lower()
    assert "hash" not in text.lower()
    assert not re.search(r"\$2[abxy]?\$\d\d\$", text), text


def test_users_register_token_is_the_kind_api_token_issues(
    member: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Given a new account, when its token is decoded (no key needed), then it carries
    every claim /api/token's do, its subject is the user's _id and it lives 3600 s."""
    _, answer = member

    header, payload, _ = jwt_parts(answer["token"])

    assert header["alg"] != "none"
    assert set(JWT_CLAIMS) <= set(payload), payload
    assert payload["sub"] == answer["user"]["_id"]
    assert payload["exp"] - payload["iat"] == TOKEN_LIFETIME_SECONDS


def test_users_register_lastname_is_optional(http: requests.Session, api_url: str) -> None:
    """Given a fullname with a firstname only, when it is posted, then the answer is 201
    and the user's fullname holds the firstname alone."""
    body = signup_body(fullname={"firstname": "Ada"})

    answer = assert_created(users_register(http, api_url, body))

    assert answer["user"]["fullname"] == {"firstname": "Ada"}


@pytest.mark.parametrize(
    "password",
    [pytest.param("abcdef", id="6-characters"), pytest.param("é" * 36, id="72-bytes")],
)
def test_users_register_accepts_the_password_limits(
    http: requests.Session, api_url: str, password: str
) -> None:
    """Given a password of exactly 6 characters or exactly 72 UTF-8 bytes, when it is
    posted, then the account is created."""
    assert_created(users_register(http, api_url, signup_body(password=password)))


# --- field rules -----------------------------------------------------------------------

FIELD_RULES = [
    pytest.param(
        {"fullname": {"firstname": "Jo", "lastname": "Hopper"}},
        "fullname.firstname",
        FIRST_NAME_SHORT,
        id="firstname-2-characters",
    ),
    pytest.param(
        {"fullname": {"lastname": "Hopper"}},
        "fullname.firstname",
        FIRST_NAME_SHORT,
        id="firstname-missing",
    ),
    pytest.param(
        {"fullname": {"firstname": "Grace", "lastname": "Ho"}},
        "fullname.lastname",
        LAST_NAME_SHORT,
        id="lastname-2-characters",
    ),
    pytest.param({"fullname": "Grace Hopper"}, "fullname", FULLNAME_NOT_OBJECT, id="fullname-str"),
    pytest.param(
        {"fullname": ["Grace", "Hopper"]}, "fullname", FULLNAME_NOT_OBJECT, id="fullname-array"
    ),
    pytest.param(
        {"fullname": MISSING}, "fullname.firstname", FIRST_NAME_SHORT, id="fullname-missing"
    ),
    pytest.param({"email": "not-an-email"}, "email", INVALID_EMAIL, id="email-invalid"),
    pytest.param({"email": "grace@"}, "email", INVALID_EMAIL, id="email-without-domain"),
    pytest.param({"email": "a@b"}, "email", EMAIL_SHORT, id="email-3-characters"),
    pytest.param({"email": MISSING}, "email", INVALID_EMAIL, id="email-missing"),
    pytest.param({"password": "12345"}, "password", PASSWORD_SHORT, id="password-5-characters"),
    pytest.param({"password": MISSING}, "password", PASSWORD_SHORT, id="password-missing"),
    pytest.param({"password": "p" * 73}, "password", PASSWORD_LONG, id="password-73-bytes"),
    pytest.param(
        {"password": "é" * 37}, "password", PASSWORD_LONG, id="password-37-characters-74-bytes"
    ),
]


@pytest.mark.parametrize(("change", "param", "message"), FIELD_RULES)
def test_users_register_refuses_each_broken_field(
    http: requests.Session, api_url: str, change: dict[str, Any], param: str, message: str
) -> None:
    """Given a valid body with one field broken (or left out), when it is posted, then
    the answer is 400 listing that one problem: its param and its rule's exact message."""
    response = users_register(http, api_url, signup_body(**change))

    assert_refused(response, (param, message))


def test_users_register_lists_every_problem_at_once(http: requests.Session, api_url: str) -> None:
    """Given a body where every field breaks its rule, when it is posted, then the
    answer is 400 listing all four problems together."""
    body = {
        "fullname": {"firstname": "Jo", "lastname": "Do"},
        "email": "not-an-email",
        "password": "123",
    }

    response = users_register(http, api_url, body)

    assert_refused(
        response,
        ("fullname.firstname", FIRST_NAME_SHORT),
        ("fullname.lastname", LAST_NAME_SHORT),
        ("email", INVALID_EMAIL),
        ("password", PASSWORD_SHORT),
    )


def test_users_register_lists_every_missing_field(http: requests.Session, api_url: str) -> None:
    """Given an empty JSON object, when it is posted, then the answer is 400 listing the
    first name, the email and the password together."""
    response = users_register(http, api_url, {})

    assert_refused(
        response,
        ("fullname.firstname", FIRST_NAME_SHORT),
        ("email", INVALID_EMAIL),
        ("password", PASSWORD_SHORT),
    )


def test_users_register_refusal_creates_no_account(http: requests.Session, api_url: str) -> None:
    """Given a registration refused for its password, when the same email registers
    again correctly, then it succeeds: the refusal stored nothing."""
    body = signup_body()
    assert_refused(
        users_register(http, api_url, {**body, "password": "12345"}), ("password", PASSWORD_SHORT)
    )

    assert_created(users_register(http, api_url, body))


@pytest.mark.parametrize("raw", list(NOT_JSON_OBJECT_BODIES.values()), ids=NOT_JSON_OBJECT_BODIES)
def test_users_register_refuses_bodies_that_are_not_json_objects(
    http: requests.Session, api_url: str, raw: bytes
) -> None:
    """Given a body that is not a JSON object (malformed, an array, a scalar, empty),
    when it is posted, then the answer is 400 with one problem whose param is "body"."""
    response = post_raw(http, f"{api_url}/users/register", raw)

    assert response.status_code == 400, f"{response.status_code}: {response.text[:500]}"
    body = assert_json(response)
    assert set(body) == {"errors"}, body
    [problem] = body["errors"]
    assert problem["param"] == "body", body
    assert problem["location"] == "body", body
    assert isinstance(problem["msg"], str), body
    assert problem["msg"], body


# --- email uniqueness across both registration calls ------------------------------------


def test_users_register_refuses_its_own_email_in_another_case(
    http: requests.Session, api_url: str, member: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Given an account made here, when another registers here with its email
    upper-cased, then the answer is 400 "Email is already registered"."""
    body, _ = member

    response = users_register(
        http, api_url, signup_body(email=body["email"].upper(), fullname={"firstname": "Eve"})
    )

    assert_email_taken(response)


def test_email_from_users_register_is_refused_by_api_register(
    http: requests.Session, api_url: str, member: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Given an account made at /users/register, when /api/register is called with its
    email in another case, then the answer is 409 EMAIL_EXISTS in the /api envelope."""
    body, _ = member

    response = register(http, api_url, registration_body(email=body["email"].upper()))

    error = assert_error(response, 409, "EMAIL_EXISTS")
    assert detail_fields(error) <= {"email"}, error


def test_email_from_api_register_is_refused_by_users_register(
    http: requests.Session, api_url: str
) -> None:
    """Given an account made at /api/register, when /users/register is called with its
    email in another case, then the answer is 400 "Email is already registered"."""
    email = unique_email()
    assert_success(register(http, api_url, registration_body(email=email)))

    response = users_register(http, api_url, signup_body(email=email.upper()))

    assert_email_taken(response)


def test_one_email_registered_by_both_calls_at_once_has_one_winner(api_url: str) -> None:
    """Given 10 /users/register and 10 /api/register calls for one email, released
    together, when the race ends, then exactly one succeeded, the others were refused
    (400 "Email is already registered" or 409 EMAIL_EXISTS), none answered 5xx, and the
    winner logs in by email."""
    email = unique_email()
    barrier = threading.Barrier(2 * RACERS_PER_CALL)

    def race(path: str, body: dict[str, Any]) -> requests.Response:
        with requests.Session() as session:  # one per thread: Session is not thread-safe
            barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
            return session.post(f"{api_url}{path}", json=body, timeout=RACE_TIMEOUT_SECONDS)

    with ThreadPoolExecutor(max_workers=2 * RACERS_PER_CALL) as pool:
        signups = [
            pool.submit(race, "/users/register", signup_body(email=email))
            for _ in range(RACERS_PER_CALL)
        ]
        classics = [
            pool.submit(race, "/api/register", registration_body(email=email))
            for _ in range(RACERS_PER_CALL)
        ]
        signup_responses = [future.result() for future in signups]
        classic_responses = [future.result() for future in classics]

    everything = [f"{r.status_code} {r.text[:200]}" for r in signup_responses + classic_responses]
    assert all(r.status_code < 500 for r in signup_responses + classic_responses), everything
    winners = [r for r in signup_responses if r.status_code == 201] + [
        r for r in classic_responses if r.status_code == 200
    ]
    assert len(winners) == 1, everything
    for response in signup_responses:
        if response.status_code != 201:
            assert_email_taken(response)
    for response in classic_responses:
        if response.status_code != 200:
            assert_error(response, 409, "EMAIL_EXISTS")
    winner = winners[0].json()
    winner_id = winner["user"]["_id"] if "user" in winner else winner["data"]["user_id"]
    with requests.Session() as session:
        login = request_token(session, api_url, email, DEFAULT_PASSWORD)
    token = assert_success(login, TOKEN_ISSUED)["data"]["access_token"]
    assert jwt_parts(token)[1]["sub"] == winner_id


# --- the token and the account at work ----------------------------------------------------


def test_users_register_token_works_on_api_data(
    http: requests.Session, api_url: str, member: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Given the token /users/register returned, when it stores, reads and deletes a
    key, then each call succeeds and the key is gone afterwards."""
    _, answer = member
    token = answer["token"]
    key = unique_key("signup")
    try:
        assert_success(store(http, api_url, token, key, {"notes": ["ü", 1, True]}), STORED)

        read = assert_success(fetch(http, api_url, token, key))
        assert read["data"] == {"key": key, "value": {"notes": ["ü", 1, True]}}

        assert_success(delete(http, api_url, token, key), DELETED)
        assert_error(fetch(http, api_url, token, key), 404, "KEY_NOT_FOUND")
    finally:
        delete_quietly(http, api_url, token, key)


@pytest.mark.parametrize("case", ["as-registered", "upper-case"])
def test_users_register_account_logs_in_by_email(
    http: requests.Session,
    api_url: str,
    member: tuple[dict[str, Any], dict[str, Any]],
    case: str,
) -> None:
    """Given an account made at /users/register (it has no username), when /api/token
    gets its email (in any case) and password, then a Bearer token for the same user is
    issued, and the authorizer accepts it."""
    body, answer = member
    email = body["email"] if case == "as-registered" else body["email"].upper()

    response = request_token(http, api_url, email, body["password"])

    data = assert_success(response, TOKEN_ISSUED)["data"]
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == TOKEN_LIFETIME_SECONDS
    assert jwt_parts(data["access_token"])[1]["sub"] == answer["user"]["_id"]
    missing = fetch(http, api_url, data["access_token"], unique_key("absent"))
    assert_error(missing, 404, "KEY_NOT_FOUND")  # not 401: the token was accepted


def test_users_register_account_with_a_wrong_password_is_refused(
    http: requests.Session, api_url: str, member: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Given an account made at /users/register, when /api/token gets its email with a
    wrong password, then the answer is 401 INVALID_CREDENTIALS."""
    body, _ = member

    response = request_token(http, api_url, body["email"], body["password"] + "-wrong")

    assert_error(response, 401, "INVALID_CREDENTIALS")


def test_users_register_token_is_refused_when_tampered(
    http: requests.Session, api_url: str, member: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Given the token /users/register returned with its signature altered, when it is
    used on /api/data, then the answer is 401 INVALID_TOKEN (it is really checked)."""
    _, answer = member
    forged = with_flipped_signature(answer["token"])

    response = http.get(f"{api_url}/api/data/anything", headers=auth_headers(forged))

    assert_error(response, 401, "INVALID_TOKEN")
