"""POST /api/register over HTTP: success shape, every validation rule, check order,
uniqueness and bodies that are not JSON objects."""

from __future__ import annotations

import json
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
    REGISTERED,
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
    new_user,
    post_raw,
    register,
    registration_body,
    request_token,
    store,
    unique_email,
    unique_key,
    unique_suffix,
    unique_username,
    with_flipped_signature,
    without,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def registration(http: requests.Session, api_url: str) -> tuple[dict[str, Any], requests.Response]:
    """One successful registration whose request and response several tests inspect."""
    body = registration_body(full_name="Ada Lovelace", age=36, gender="female")
    return body, register(http, api_url, body)


@pytest.fixture(scope="module")
def taken(registration: tuple[dict[str, Any], requests.Response]) -> dict[str, Any]:
    """The body of an account that exists: its username and email are taken."""
    body, response = registration
    assert response.status_code == 200, response.text
    return body


# --- success -------------------------------------------------------------------------


def test_register_answers_200_with_the_success_envelope(
    registration: tuple[dict[str, Any], requests.Response],
) -> None:
    """Given a valid registration, when it is posted, then the answer is 200 with
    status success and the exact message."""
    _, response = registration

    assert_success(response, REGISTERED)


def test_register_returns_exactly_the_profile_fields(
    registration: tuple[dict[str, Any], requests.Response],
) -> None:
    """Given a valid registration, when it succeeds, then data holds user_id, username,
    email, full_name, age and gender, echoing what was sent."""
    body, response = registration

    data = response.json()["data"]

    assert set(data) == {"user_id", "username", "email", "full_name", "age", "gender"}
    assert data["username"] == body["username"]
    assert data["email"] == body["email"]
    assert data["full_name"] == body["full_name"]
    assert data["age"] == body["age"]
    assert type(data["age"]) is int
    assert data["gender"] == body["gender"]


def test_register_user_id_is_a_non_empty_string(
    registration: tuple[dict[str, Any], requests.Response],
) -> None:
    """Given a successful registration, when its data is read, then user_id is an
    opaque non-empty string."""
    _, response = registration

    user_id = response.json()["data"]["user_id"]

    assert isinstance(user_id, str)
    assert user_id.strip()


def test_register_response_never_contains_the_password_or_a_hash(
    registration: tuple[dict[str, Any], requests.Response],
) -> None:
    """Given a successful registration, when the raw response text is searched, then
    neither the password, nor a bcrypt hash, nor a password field appears."""
    body, response = registration

    text = response.text

    assert body["password"] not in text
    assert "$2b$" not in text
    assert "$2a$" not in text
    assert "password" not in text.lower()
    assert "hash" not in text.lower()


def test_register_ignores_unknown_fields(
    http: requests.Session, api_url: str, registration: tuple[dict[str, Any], requests.Response]
) -> None:
    """Given one registered user, when another registers with unknown fields (including
    a user_id of its choosing), then the fields are ignored and it gets its own user_id."""
    _, first = registration
    body = registration_body(user_id="chosen-by-client", role="admin", is_admin=True)

    response = register(http, api_url, body)

    data = assert_success(response, REGISTERED)["data"]
    assert set(data) == {"user_id", "username", "email", "full_name", "age", "gender"}
    assert data["user_id"] not in ("chosen-by-client", first.json()["data"]["user_id"])


@pytest.mark.parametrize("password", ["secure_password123", "test_password"])
def test_register_accepts_passwords_without_composition_rules(
    http: requests.Session, api_url: str, password: str
) -> None:
    """Given the NIST-style policy, when a long non-common password without upper case,
    digits or specials is used, then registration succeeds."""
    response = register(http, api_url, registration_body(password=password))

    assert_success(response, REGISTERED)


def test_register_accepts_upper_boundaries(http: requests.Session, api_url: str) -> None:
    """Given a 32-character username, a 100-character full name, age 150 and a
    64-character gender, when registered, then it succeeds."""
    username = unique_username("b") + "x" * 32
    username = username[:32]
    body = registration_body(
        username=username,
        email=unique_email(username),
        full_name="N" * 100,
        age=150,
        gender="g" * 64,
    )

    response = register(http, api_url, body)

    data = assert_success(response, REGISTERED)["data"]
    assert (data["username"], data["full_name"], data["age"], data["gender"]) == (
        username,
        "N" * 100,
        150,
        "g" * 64,
    )


def test_register_accepts_age_one_and_free_text_gender(
    http: requests.Session, api_url: str
) -> None:
    """Given age 1 and a free-text gender, when registered, then it succeeds and the
    gender is returned as sent."""
    body = registration_body(age=1, gender="Two-Spirit ✨", full_name="Zoë Ñúñez 山田")

    response = register(http, api_url, body)

    data = assert_success(response, REGISTERED)["data"]
    assert (data["age"], data["gender"], data["full_name"]) == (
        1,
        "Two-Spirit ✨",
        "Zoë Ñúñez 山田",
    )


def test_register_accepts_a_password_of_exactly_72_bytes(
    http: requests.Session, api_url: str
) -> None:
    """Given a password of 72 UTF-8 bytes (36 two-byte characters), when registered,
    then it succeeds and that exact password logs in."""
    password = "é" * 36
    body = registration_body(password=password)

    registered = register(http, api_url, body)
    token = request_token(http, api_url, body["username"], password)

    assert_success(registered, REGISTERED)
    assert token.status_code == 200, token.text


# --- uniqueness (check 5) ------------------------------------------------------------


def test_register_refuses_a_taken_username(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given an existing user, when someone registers the same username with a new
    email, then the answer is 409 USERNAME_EXISTS."""
    response = register(http, api_url, registration_body(username=taken["username"]))

    assert_error(response, 409, "USERNAME_EXISTS")


@pytest.mark.parametrize("change_case", [str.upper, str.lower, str.swapcase])
def test_register_refuses_a_taken_username_in_another_case(
    http: requests.Session, api_url: str, taken: dict[str, Any], change_case: Any
) -> None:
    """Given an existing user, when someone registers the username in another letter
    case, then the answer is 409 USERNAME_EXISTS (usernames are case-insensitive)."""
    body = registration_body(username=change_case(taken["username"]))

    response = register(http, api_url, body)

    assert_error(response, 409, "USERNAME_EXISTS")


def test_register_refuses_a_taken_email(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given an existing user, when someone registers a new username with the same
    email, then the answer is 409 EMAIL_EXISTS."""
    response = register(http, api_url, registration_body(email=taken["email"]))

    assert_error(response, 409, "EMAIL_EXISTS")


def test_register_refuses_a_taken_email_in_another_case(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given an existing user, when someone registers the email upper-cased, then the
    answer is 409 EMAIL_EXISTS (emails are case-insensitive)."""
    response = register(http, api_url, registration_body(email=taken["email"].upper()))

    assert_error(response, 409, "EMAIL_EXISTS")


def test_register_taken_username_wins_over_taken_email(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given an existing user, when both its username and its email are registered
    again, then the answer is USERNAME_EXISTS (checked first)."""
    body = registration_body(username=taken["username"], email=taken["email"])

    response = register(http, api_url, body)

    assert_error(response, 409, "USERNAME_EXISTS")


def test_register_failed_duplicate_leaves_the_account_usable(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given a refused duplicate registration with another password, when the original
    user logs in with the original password, then it still works."""
    duplicate = registration_body(username=taken["username"], password="another-password-77")
    register(http, api_url, duplicate)

    response = request_token(http, api_url, taken["username"], taken["password"])

    assert response.status_code == 200, response.text


# --- check order ---------------------------------------------------------------------


def test_check_order_invalid_request_comes_first(http: requests.Session, api_url: str) -> None:
    """Given a body failing checks 1 (no username), 2 (short password), 3 (age) and 4
    (gender), when registered, then the code is INVALID_REQUEST and details name every
    failing field."""
    body = without(registration_body(password="short", age="old"), "username", "gender")

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert {"username", "password", "age", "gender"} <= detail_fields(error)


def test_check_order_invalid_password_before_age_and_gender(
    http: requests.Session, api_url: str
) -> None:
    """Given valid identity fields but a short password, age 0 and a blank gender, when
    registered, then the code is INVALID_PASSWORD and details name password, age and
    gender."""
    body = registration_body(password="1234", age=0, gender=" ")

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_PASSWORD")
    assert {"password", "age", "gender"} <= detail_fields(error)
    assert not {"username", "email", "full_name"} & detail_fields(error)


def test_check_order_invalid_age_before_gender_and_uniqueness(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given a taken username, age 151 and no gender, when registered, then the code
    is INVALID_AGE and details name age and gender."""
    body = without(registration_body(username=taken["username"], age=151), "gender")

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_AGE")
    assert {"age", "gender"} <= detail_fields(error)


def test_check_order_gender_before_uniqueness(
    http: requests.Session, api_url: str, taken: dict[str, Any]
) -> None:
    """Given a taken username and email and a blank gender, when registered, then the
    code is GENDER_REQUIRED and details name gender."""
    body = registration_body(username=taken["username"], email=taken["email"], gender="")

    response = register(http, api_url, body)

    error = assert_error(response, 400, "GENDER_REQUIRED")
    assert "gender" in detail_fields(error)


def test_check_order_invalid_request_details_list_every_identity_problem(
    http: requests.Session, api_url: str
) -> None:
    """Given a bad username, a bad email and an overlong full name, when registered,
    then INVALID_REQUEST's details name all three fields."""
    body = registration_body(username="x", email="not-an-email", full_name="F" * 101)

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert {"username", "email", "full_name"} <= detail_fields(error)


# --- check 1: INVALID_REQUEST ---------------------------------------------------------

INVALID_REQUEST_CASES: dict[str, tuple[str, Any]] = {
    # id: (field, value; a value of ... removes the field)
    "username-missing": ("username", ...),
    "username-null": ("username", None),
    "username-blank": ("username", "   "),
    "username-number": ("username", 12345),
    "username-too-short": ("username", "ab"),
    "username-too-long": ("username", "u" * 33),
    "username-space": ("username", "bad name"),
    "username-at-sign": ("username", "bad@name"),
    "email-missing": ("email", ...),
    "email-blank": ("email", ""),
    "email-no-at": ("email", "not-an-email"),
    "email-no-domain": ("email", "someone@"),
    "email-list": ("email", ["a@example.com"]),
    "password-missing": ("password", ...),
    "password-blank": ("password", "        "),
    "password-number": ("password", 12345678),
    "full_name-missing": ("full_name", ...),
    "full_name-blank": ("full_name", ""),
    "full_name-too-long": ("full_name", "F" * 101),
    "full_name-object": ("full_name", {"first": "Ada"}),
}


@pytest.mark.parametrize(
    ("field", "value"), list(INVALID_REQUEST_CASES.values()), ids=list(INVALID_REQUEST_CASES)
)
def test_register_refuses_invalid_required_fields(
    http: requests.Session, api_url: str, field: str, value: Any
) -> None:
    """Given a registration whose one identity field is missing, blank, not a string or
    malformed, when posted, then the answer is INVALID_REQUEST naming that field."""
    body = registration_body()
    body = without(body, field) if value is ... else {**body, field: value}

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert field in detail_fields(error)


def test_register_refuses_an_email_over_254_characters(
    http: requests.Session, api_url: str
) -> None:
    """Given an otherwise well-formed email of 255 characters, when registered, then
    the answer is INVALID_REQUEST naming email."""
    domain = ".".join(["d" * 60, "d" * 60, "d" * 60, "d" * 5, "com"])
    email = "a" * (255 - 1 - len(domain)) + "@" + domain
    assert len(email) == 255

    response = register(http, api_url, registration_body(email=email))

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert "email" in detail_fields(error)


def test_register_refuses_an_empty_object(http: requests.Session, api_url: str) -> None:
    """Given an empty JSON object, when registered, then the answer is INVALID_REQUEST
    naming the four required fields."""
    response = register(http, api_url, {})

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert {"username", "email", "password", "full_name"} <= detail_fields(error)


# --- check 2: INVALID_PASSWORD --------------------------------------------------------

INVALID_PASSWORDS = {
    "7-characters": "abcdefg",
    "3-cjk-characters-9-bytes": "日本語",
    "7-emoji-28-bytes": "🔒" * 7,
    "contains-lockbox": "my-LockBox-vault",
    "129-characters": "p" * 129,
    "common-password": "password",
    "common-12345678": "12345678",
    "common-iloveyou": "iloveyou",
    "common-qwertyuiop": "qwertyuiop",
}


@pytest.mark.parametrize("password", list(INVALID_PASSWORDS.values()), ids=list(INVALID_PASSWORDS))
def test_register_refuses_invalid_passwords(
    http: requests.Session, api_url: str, password: str
) -> None:
    """Given a password that is too short in characters (whatever its bytes), over 128
    characters, among the most common passwords or containing "lockbox", when registered, then
    the answer is INVALID_PASSWORD naming password."""
    response = register(http, api_url, registration_body(password=password))

    error = assert_error(response, 400, "INVALID_PASSWORD")
    assert "password" in detail_fields(error)


def test_register_counts_password_characters_not_bytes(
    http: requests.Session, api_url: str
) -> None:
    """Given 8 CJK characters (24 UTF-8 bytes), when registered, then it succeeds and
    that password logs in, where "日本語" (3 characters, 9 bytes) was refused."""
    body = registration_body(password="日本語の合言葉です")

    registered = register(http, api_url, body)

    assert_success(registered, REGISTERED)
    assert request_token(http, api_url, body["username"], body["password"]).status_code == 200


@pytest.mark.parametrize(
    ("word_of", "message"),
    [
        pytest.param("username", "Password must not contain the username.", id="username"),
        pytest.param("email", "Password must not contain the email address's name.", id="email"),
    ],
)
def test_register_refuses_a_password_containing_the_accounts_names(
    http: requests.Session, api_url: str, word_of: str, message: str
) -> None:
    """Given a password holding the username, or the email's local part, upper-cased,
    when registered, then INVALID_PASSWORD says which rule failed."""
    body = registration_body()
    word = body[word_of].partition("@")[0].upper()

    response = register(http, api_url, {**body, "password": f"x{word}x"})

    error = assert_error(response, 400, "INVALID_PASSWORD")
    assert error["details"] == [{"field": "password", "message": message}]


# --- check 3: INVALID_AGE -------------------------------------------------------------

INVALID_AGES: dict[str, Any] = {
    "missing": ...,
    "null": None,
    "true": True,
    "false": False,
    "float": 30.5,
    "numeric-string": "30",
    "zero": 0,
    "negative": -5,
    "151": 151,
    "huge": 10**30,
    "list": [30],
}


@pytest.mark.parametrize("age", list(INVALID_AGES.values()), ids=list(INVALID_AGES))
def test_register_refuses_invalid_ages(http: requests.Session, api_url: str, age: Any) -> None:
    """Given an age that is missing, not a JSON integer, or outside 1-150, when
    registered, then the answer is INVALID_AGE naming age."""
    body = registration_body()
    body = without(body, "age") if age is ... else {**body, "age": age}

    response = register(http, api_url, body)

    error = assert_error(response, 400, "INVALID_AGE")
    assert "age" in detail_fields(error)


# --- check 4: GENDER_REQUIRED ---------------------------------------------------------

INVALID_GENDERS: dict[str, Any] = {
    "missing": ...,
    "null": None,
    "empty": "",
    "blank": "   ",
    "number": 1,
    "too-long": "g" * 65,
}


@pytest.mark.parametrize("gender", list(INVALID_GENDERS.values()), ids=list(INVALID_GENDERS))
def test_register_refuses_invalid_genders(
    http: requests.Session, api_url: str, gender: Any
) -> None:
    """Given a gender that is missing, blank, not a string or over 64 characters, when
    registered, then the answer is GENDER_REQUIRED naming gender."""
    body = registration_body()
    body = without(body, "gender") if gender is ... else {**body, "gender": gender}

    response = register(http, api_url, body)

    error = assert_error(response, 400, "GENDER_REQUIRED")
    assert "gender" in detail_fields(error)


# --- bodies that are not JSON objects --------------------------------------------------


@pytest.mark.parametrize(
    "raw", list(NOT_JSON_OBJECT_BODIES.values()), ids=list(NOT_JSON_OBJECT_BODIES)
)
def test_register_refuses_bodies_that_are_not_json_objects(
    http: requests.Session, api_url: str, raw: bytes
) -> None:
    """Given a body that is malformed JSON or a JSON value other than an object, when
    posted to /api/register, then the answer is INVALID_REQUEST."""
    response = post_raw(http, f"{api_url}/api/register", raw)

    assert_error(response, 400, "INVALID_REQUEST")


def test_register_refuses_nan_which_is_not_json(http: requests.Session, api_url: str) -> None:
    """Given a body whose age is the bare token NaN (accepted by some parsers, not
    JSON), when posted, then the answer is INVALID_REQUEST."""
    body = registration_body(age="__nan__")
    raw = json.dumps(body).replace('"__nan__"', "NaN").encode()

    response = post_raw(http, f"{api_url}/api/register", raw)

    assert_error(response, 400, "INVALID_REQUEST")


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
PASSWORD_LONG = "Password must be at most 128 characters long"
TOO_COMMON = "Password is too common"

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
    [pytest.param("abcdef", id="6-characters"), pytest.param("é" * 128, id="128-characters")],
)
def test_users_register_accepts_the_password_limits(
    http: requests.Session, api_url: str, password: str
) -> None:
    """Given a password of exactly 6 characters or exactly 128 characters (256 UTF-8
    bytes), when it is posted, then the account is created."""
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
    pytest.param({"password": "123456"}, "password", TOO_COMMON, id="password-common"),
    pytest.param({"password": "QWERTY123"}, "password", TOO_COMMON, id="password-common-upper"),
    pytest.param({"password": "p" * 129}, "password", PASSWORD_LONG, id="password-129-characters"),
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
        assert read["data"] == {"key": key, "value": {"notes": ["ü", 1, True]}, "metadata": None}

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


def spellings(local: str) -> dict[str, tuple[str, str]]:
    """Pairs of spellings of one fresh mailbox (registered first, tried second)."""
    return {
        "full-width-domain": (
            f"{local}@example.com",
            f"{local}@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        ),
        "ideographic-full-stop": (f"{local}@example.com", f"{local}@example\u3002com"),
        "idna-domain": (f"{local}@b\u00fccher.de", f"{local}@xn--bcher-kva.de"),
        "nfd-domain": (f"{local}@b\u00fccher.de", f"{local}@bu\u0308cher.de"),
        "case-folded-local-part": (
            f"stra\u00dfe{local}@example.com",
            f"STRASSE{local.upper()}@example.com",
        ),
    }


SPELLING_NAMES = list(spellings("x"))


def mailbox(name: str) -> tuple[str, str]:
    return spellings(f"m{unique_suffix(12)}")[name]


@pytest.mark.parametrize("name", SPELLING_NAMES)
def test_another_spelling_of_a_registered_mailbox_is_email_exists(
    http: requests.Session, api_url: str, name: str
) -> None:
    """Given an account, when another spelling of its mailbox registers, then 409 EMAIL_EXISTS."""
    first, second = mailbox(name)
    assert register(http, api_url, registration_body(email=first)).status_code == 200

    response = register(http, api_url, registration_body(email=second))

    assert_error(response, 409, "EMAIL_EXISTS")


@pytest.mark.parametrize("name", SPELLING_NAMES)
def test_another_spelling_of_the_mailbox_logs_in(
    http: requests.Session, api_url: str, name: str
) -> None:
    """Given an account, when it logs in with another spelling of its email, then a token."""
    first, second = mailbox(name)
    assert register(http, api_url, registration_body(email=first)).status_code == 200

    response = request_token(http, api_url, second, DEFAULT_PASSWORD)

    assert_success(response, "Access token generated successfully.")


def test_users_register_refuses_another_spelling(http: requests.Session, api_url: str) -> None:
    """Given an /api account, when /users/register uses another spelling, then it is refused."""
    first, second = mailbox("full-width-domain")
    assert register(http, api_url, registration_body(email=first)).status_code == 200
    body = {"fullname": {"firstname": "Mary"}, "email": second, "password": "a-long-password"}

    response = http.post(f"{api_url}/users/register", json=body)

    assert response.status_code == 400
    assert {"msg": "Email is already registered", "param": "email"}.items() <= response.json()[
        "errors"
    ][0].items()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Ada\x00Lovelace"),
        ("gender", "female\x00"),
        ("gender", "\x1b[31mred"),
        ("password", DEFAULT_PASSWORD + "\x00"),
        ("email", "x" * 65 + "@example.com"),
    ],
    ids=[
        "nul-in-full-name",
        "nul-in-gender",
        "escape-in-gender",
        "nul-in-password",
        "local-part-65",
    ],
)
def test_control_characters_and_long_local_parts_are_invalid_request(
    http: requests.Session, api_url: str, field: str, value: Any
) -> None:
    """Given a control character in a text field or 65 characters before @, when registering,
    then 400 INVALID_REQUEST naming the field."""
    response = register(http, api_url, registration_body(**{field: value}))

    assert field in detail_fields(assert_error(response, 400, "INVALID_REQUEST"))


def test_a_token_with_a_padded_signature_is_invalid_token(
    http: requests.Session, api_url: str
) -> None:
    """Given a valid token with base64 padding after its signature, the data call is 401."""
    user = new_user(http, api_url)

    response = http.get(f"{api_url}/api/data/anything", headers=auth_headers(user.token + "="))

    assert_error(response, 401, "INVALID_TOKEN")
