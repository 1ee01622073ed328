"""POST /api/register over HTTP: success shape, every validation rule, check order,
uniqueness and bodies that are not JSON objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    NOT_JSON_OBJECT_BODIES,
    REGISTERED,
    assert_error,
    assert_success,
    detail_fields,
    post_raw,
    register,
    registration_body,
    request_token,
    unique_email,
    unique_username,
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
    "7-bytes": "abcdefg",
    "73-bytes": "p" * 73,
    "74-bytes-in-37-characters": "é" * 37,
    "common-password": "password",
    "common-12345678": "12345678",
    "common-iloveyou": "iloveyou",
    "common-qwertyuiop": "qwertyuiop",
}


@pytest.mark.parametrize("password", list(INVALID_PASSWORDS.values()), ids=list(INVALID_PASSWORDS))
def test_register_refuses_invalid_passwords(
    http: requests.Session, api_url: str, password: str
) -> None:
    """Given a password that is too short, over 72 UTF-8 bytes or among the most common
    passwords, when registered, then the answer is INVALID_PASSWORD naming password."""
    response = register(http, api_url, registration_body(password=password))

    error = assert_error(response, 400, "INVALID_PASSWORD")
    assert "password" in detail_fields(error)


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
