"""POST /api/register through its Lambda handler, against moto tables built from template.yaml."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register
from tests.handlers.calls import answer, call, error, handler, with_body, without_details
from tests.handlers.sessions import token


def users_items(client: Any) -> dict[str, dict[str, Any]]:
    return {item["pk"]["S"]: item for item in client.scan(TableName="UsersTable")["Items"]}


def test_success_answers_200_with_the_profile(aws_tables: Any, lambda_context: Any) -> None:
    """Given the sample registration, when registering, then 200 with the new user's profile."""
    status, body = call(handler("register"), load_event("register_success"), lambda_context)

    assert status == 200
    assert body["status"] == "success"
    assert body["message"] == "User successfully registered!"
    data = body["data"]
    assert set(data) == {"user_id", "username", "email", "full_name", "age", "gender"}
    assert {name: data[name] for name in data if name != "user_id"} == {
        name: value for name, value in USER.items() if name != "password"
    }
    assert isinstance(data["user_id"], str)
    assert data["user_id"]


def test_response_never_contains_the_password_or_its_hash(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a registration, the response has neither the password nor its bcrypt hash."""
    response = handler("register")(load_event("register_success"), lambda_context)

    stored_hash = users_items(aws_tables)["USERNAME#johndoe"]["password_hash"]["S"]
    assert "password" not in response["body"].lower()
    assert USER["password"] not in response["body"]
    assert stored_hash not in response["body"]
    assert "$2b$" not in response["body"]


def test_each_registration_gets_its_own_user_id(aws_tables: Any, lambda_context: Any) -> None:
    """Given two accounts, their user ids differ."""
    _, first = register(lambda_context)
    _, second = register(lambda_context, username="janedoe", email="jane@example.com")

    assert first["data"]["user_id"] != second["data"]["user_id"]


def test_table_holds_the_profile_and_both_markers(aws_tables: Any, lambda_context: Any) -> None:
    """Given a registration, the users table holds USER#id, USERNAME# and EMAIL# items,
    and the account's verification mail request."""
    _, body = register(lambda_context, username="JohnDoe", email="John.Doe@Example.com")
    user_id = body["data"]["user_id"]

    items = users_items(aws_tables)

    assert set(items) == {
        f"USER#{user_id}",
        "USERNAME#johndoe",
        "EMAIL#john.doe@example.com",
        f"MAIL#verify#{user_id}",
    }
    profile = items[f"USER#{user_id}"]
    assert profile["username"] == {"S": "JohnDoe"}
    assert profile["email"] == {"S": "John.Doe@Example.com"}
    assert profile["full_name"] == {"S": "John Doe"}
    assert profile["age"] == {"N": "30"}
    assert profile["gender"] == {"S": "male"}
    assert profile["password_hash"]["S"].startswith(
        "hmac-sha256-bcrypt$1$$2b$04$"
    )  # the account calls check it
    for marker in ("USERNAME#johndoe", "EMAIL#john.doe@example.com"):
        assert items[marker]["user_id"] == {"S": user_id}
        assert items[marker]["password_hash"]["S"].startswith("hmac-sha256-bcrypt$1$$2b$04$")


def test_password_is_stored_only_as_a_hash(aws_tables: Any, lambda_context: Any) -> None:
    """Given a registration, the plain password is nowhere in the users table."""
    register(lambda_context)

    dump = json.dumps(aws_tables.scan(TableName="UsersTable")["Items"])

    assert USER["password"] not in dump


@pytest.mark.parametrize(
    ("event_name", "code", "fields"),
    [
        (
            "register_missing_fields",
            ErrorCode.INVALID_REQUEST,
            ["email", "full_name", "age", "gender"],
        ),
        ("register_invalid_username", ErrorCode.INVALID_REQUEST, ["username"]),
        ("register_invalid_email", ErrorCode.INVALID_REQUEST, ["email"]),
        ("register_common_password", ErrorCode.INVALID_PASSWORD, ["password"]),
        ("register_short_password", ErrorCode.INVALID_PASSWORD, ["password"]),
        ("register_invalid_age", ErrorCode.INVALID_AGE, ["age"]),
        ("register_missing_gender", ErrorCode.GENDER_REQUIRED, ["gender"]),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_validation_failures_answer_their_code_with_details(
    lambda_context: Any, event_name: str, code: ErrorCode, fields: list[str]
) -> None:
    """Given an events/ file with a rule broken, then that code, its message, and every field."""
    status, body = call(handler("register"), load_event(event_name), lambda_context)

    assert without_details((status, body)) == error(code)
    assert [problem["field"] for problem in body["details"]] == fields
    assert all(problem["message"] for problem in body["details"])


@pytest.mark.parametrize(
    "event_name", ["register_malformed_json", "register_array_body", "register_empty_body"]
)
@pytest.mark.usefixtures("no_dynamodb")
def test_body_that_is_not_a_json_object_is_invalid_request(
    lambda_context: Any, event_name: str
) -> None:
    """Given a body that is not a JSON object, INVALID_REQUEST."""
    assert call(handler("register"), load_event(event_name), lambda_context) == error(
        ErrorCode.INVALID_REQUEST
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('"johndoe"', id="string"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param('{"age": NaN}', id="nan"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_other_non_object_bodies_are_invalid_request(lambda_context: Any, raw: str) -> None:
    """Given a string, deeply nested array or NaN body, INVALID_REQUEST."""
    event = with_body("register_success", raw)

    assert call(handler("register"), event, lambda_context) == error(ErrorCode.INVALID_REQUEST)


def test_failed_validation_writes_nothing(aws_tables: Any, lambda_context: Any) -> None:
    """Given a refused registration, the users table stays empty."""
    call(handler("register"), load_event("register_common_password"), lambda_context)

    assert users_items(aws_tables) == {}


@pytest.mark.usefixtures("no_dynamodb")
def test_check_order_invalid_request_before_password(lambda_context: Any) -> None:
    """Given a bad username and a common password, INVALID_REQUEST wins and both are listed."""
    status, body = register(lambda_context, username="x", password="password")

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [problem["field"] for problem in body["details"]] == ["username", "password"]


def test_validation_comes_before_uniqueness(aws_tables: Any, lambda_context: Any) -> None:
    """Given a taken username and no gender, GENDER_REQUIRED answers, not USERNAME_EXISTS."""
    register(lambda_context)
    body = {name: value for name, value in USER.items() if name != "gender"}

    result = call(handler("register"), with_body("register_success", body), lambda_context)

    assert without_details(result) == error(ErrorCode.GENDER_REQUIRED)


@pytest.mark.parametrize("username", ["johndoe", "JOHNDOE"])
def test_username_taken_in_any_case_is_username_exists(
    aws_tables: Any, lambda_context: Any, username: str
) -> None:
    """Given johndoe registered, the same username in any case is USERNAME_EXISTS."""
    register(lambda_context)

    result = register(lambda_context, username=username, email="other@example.com")

    assert result == error(ErrorCode.USERNAME_EXISTS)


@pytest.mark.parametrize("email", ["john.doe@example.com", "John.Doe@EXAMPLE.com"])
def test_email_taken_in_any_case_is_email_exists(
    aws_tables: Any, lambda_context: Any, email: str
) -> None:
    """Given john.doe@example.com registered, the same email in any case is EMAIL_EXISTS."""
    register(lambda_context)

    result = register(lambda_context, username="someoneelse", email=email)

    assert result == error(ErrorCode.EMAIL_EXISTS)


def test_username_clash_is_reported_before_email_clash(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given both username and email taken, USERNAME_EXISTS."""
    register(lambda_context)

    assert register(lambda_context) == error(ErrorCode.USERNAME_EXISTS)


def test_refused_duplicate_leaves_no_partial_write(aws_tables: Any, lambda_context: Any) -> None:
    """Given a free username but a taken email, no marker or profile of the new try remains."""
    register(lambda_context)
    before = users_items(aws_tables)

    register(lambda_context, username="newname", email="JOHN.DOE@example.com")

    assert users_items(aws_tables) == before
    assert "USERNAME#newname" not in users_items(aws_tables)


def test_unknown_fields_are_ignored_and_not_stored(aws_tables: Any, lambda_context: Any) -> None:
    """Given extra fields, the account is created without them and with its own id."""
    status, body = register(lambda_context, user_id="chosen-by-client", role="admin")

    assert status == 200
    assert body["data"]["user_id"] != "chosen-by-client"
    assert "role" not in json.dumps(aws_tables.scan(TableName="UsersTable")["Items"])


def test_spec_example_passwords_are_accepted(aws_tables: Any, lambda_context: Any) -> None:
    """Given the contract's example password test_password, the registration succeeds."""
    status, _ = register(lambda_context, password="test_password")

    assert status == 200


def test_unicode_profile_is_returned_unescaped(aws_tables: Any, lambda_context: Any) -> None:
    """Given a Unicode full name and gender, the response carries them unescaped."""
    response = handler("register")(
        with_body("register_success", {**USER, "full_name": "Zoë Ñandú 山田", "gender": "女"}),
        lambda_context,
    )

    assert "Zoë Ñandú 山田" in response["body"]
    assert json.loads(response["body"])["data"]["gender"] == "女"


def api_register_event(username: str) -> dict[str, Any]:
    """A POST /api/register event for the same email as VALID's."""
    event = load_event("register_success")
    event["body"] = json.dumps(
        {
            "username": username,
            "email": "john.doe@example.com",
            "password": "test_password",
            "full_name": "John Doe",
            "age": 30,
            "gender": "male",
        }
    )
    return event


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    assert set(body) == {"errors"}
    for entry in body["errors"]:
        assert entry["location"] == "body"
    return {entry["param"]: entry["msg"] for entry in body["errors"]}


VALID = {
    "fullname": {"firstname": "John", "lastname": "Doe"},
    "email": "john.doe@example.com",
    "password": "securePassword123",
}


def test_success_answers_201_with_token_and_user(aws_tables: Any, lambda_context: Any) -> None:
    """Given the documented sample body, when registering, then 201 with token and user."""
    status, body = answer(
        handler("users_register"), load_event("users_register_success"), lambda_context
    )

    assert status == 201
    assert set(body) == {"token", "user"}
    assert body["user"]["fullname"] == {"firstname": "John", "lastname": "Doe"}
    assert body["user"]["email"] == "john.doe@example.com"
    assert body["user"]["socketId"] is None
    assert isinstance(body["user"]["_id"], str)
    assert body["user"]["_id"]
    assert "password" not in json.dumps(body).lower()


def test_token_has_the_claims_of_api_token(
    aws_tables: Any, lambda_context: Any, jwt_signing_key: str
) -> None:
    """Given a new account, its token is the kind /api/token issues, for that user."""
    _, body = answer(
        handler("users_register"), load_event("users_register_success"), lambda_context
    )

    claims = jwt.decode(
        body["token"], jwt_signing_key, algorithms=["HS256"], audience="lockbox-api-clients"
    )

    assert claims["sub"] == body["user"]["_id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert {"iss", "jti"} <= set(claims)


def test_token_is_accepted_by_the_authorizer(aws_tables: Any, lambda_context: Any) -> None:
    _, body = answer(
        handler("users_register"), load_event("users_register_success"), lambda_context
    )
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {body['token']}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/api/data/notes",
    }

    policy = handler("authorizer")(event, lambda_context)

    assert policy["context"]["user_id"] == body["user"]["_id"]


def test_lastname_is_optional(aws_tables: Any, lambda_context: Any) -> None:
    status, body = answer(
        handler("users_register"),
        with_body("users_register_success", {**VALID, "fullname": {"firstname": "Ada"}}),
        lambda_context,
    )

    assert status == 201
    assert body["user"]["fullname"] == {"firstname": "Ada"}


@pytest.mark.parametrize(
    ("change", "param", "message"),
    [
        (
            {"fullname": {"firstname": "Jo"}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": "   "}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"lastname": "Doe"}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": 123}},
            "fullname.firstname",
            "First name must be at least 3 characters long",
        ),
        ({"fullname": None}, "fullname.firstname", "First name must be at least 3 characters long"),
        (
            {"fullname": {"firstname": "John", "lastname": "D"}},
            "fullname.lastname",
            "Last name must be at least 3 characters long",
        ),
        (
            {"fullname": {"firstname": "J" * 101}},
            "fullname.firstname",
            "First name must be at most 100 characters long",
        ),
        (
            {"fullname": "John Doe"},
            "fullname",
            "Full name must be an object with firstname and lastname",
        ),
        ({"email": "a@b"}, "email", "Email must be at least 5 characters long"),
        ({"email": "not-an-email"}, "email", "Invalid Email"),
        ({"email": 42}, "email", "Invalid Email"),
        ({"email": None}, "email", "Invalid Email"),
        ({"password": "12345"}, "password", "Password must be at least 6 characters long"),
        ({"password": None}, "password", "Password must be at least 6 characters long"),
        ({"password": "é" * 129}, "password", "Password must be at most 128 characters long"),
        ({"password": "QWERTY123"}, "password", "Password is too common"),
    ],
)
def test_each_field_rule(
    aws_tables: Any, lambda_context: Any, change: dict[str, Any], param: str, message: str
) -> None:
    """Given one broken field, then 400 names that field with its rule's message."""
    body = {key: value for key, value in {**VALID, **change}.items() if value is not None}

    status, refusal = answer(
        handler("users_register"), with_body("users_register_success", body), lambda_context
    )

    assert status == 400
    assert errors_of(refusal) == {param: message}


def test_password_of_exactly_six_characters_and_72_bytes_are_accepted(
    aws_tables: Any, lambda_context: Any
) -> None:
    assert (
        answer(
            handler("users_register"),
            with_body("users_register_success", {**VALID, "password": "abcdef"}),
            lambda_context,
        )[0]
        == 201
    )
    other = {**VALID, "email": "other@example.com", "password": "é" * 36}
    assert (
        answer(
            handler("users_register"), with_body("users_register_success", other), lambda_context
        )[0]
        == 201
    )


def test_every_problem_is_listed_at_once(aws_tables: Any, lambda_context: Any) -> None:
    status, body = answer(
        handler("users_register"), load_event("users_register_invalid_fields"), lambda_context
    )

    assert status == 400
    assert set(errors_of(body)) == {"fullname.firstname", "fullname.lastname", "email", "password"}


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null", "", "{not json", "42"])
def test_body_that_is_not_an_object(aws_tables: Any, lambda_context: Any, raw: str) -> None:
    status, body = answer(
        handler("users_register"), with_body("users_register_success", raw), lambda_context
    )

    assert status == 400
    assert body == {
        "errors": [
            {
                "type": "field",
                "msg": "Request body must be a JSON object.",
                "param": "body",
                "path": "body",
                "location": "body",
            }
        ]
    }


def test_duplicate_email_is_refused_case_insensitively(
    aws_tables: Any, lambda_context: Any
) -> None:
    answer(handler("users_register"), with_body("users_register_success", VALID), lambda_context)

    status, body = answer(
        handler("users_register"),
        with_body("users_register_success", {**VALID, "email": "JOHN.DOE@example.COM"}),
        lambda_context,
    )

    assert status == 400
    assert body == {
        "errors": [
            {
                "type": "field",
                "msg": "Email is already registered",
                "param": "email",
                "path": "email",
                "location": "body",
            }
        ]
    }


def test_email_taken_by_api_register_is_refused(aws_tables: Any, lambda_context: Any) -> None:
    assert handler("register")(api_register_event("johnd"), lambda_context)["statusCode"] == 200

    status, body = answer(
        handler("users_register"), with_body("users_register_success", VALID), lambda_context
    )

    assert status == 400
    assert errors_of(body) == {"email": "Email is already registered"}


def test_email_taken_here_is_refused_by_api_register(aws_tables: Any, lambda_context: Any) -> None:
    answer(handler("users_register"), with_body("users_register_success", VALID), lambda_context)

    response = handler("register")(api_register_event("johnd"), lambda_context)

    assert response["statusCode"] == 409
    assert json.loads(response["body"])["code"] == "EMAIL_EXISTS"


def test_login_by_email_at_api_token(aws_tables: Any, lambda_context: Any) -> None:
    answer(handler("users_register"), with_body("users_register_success", VALID), lambda_context)
    event = load_event("token_success")
    event["body"] = json.dumps(
        {"username": "John.Doe@Example.com", "password": "securePassword123"}
    )

    response = handler("token")(event, lambda_context)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["data"]["token_type"] == "Bearer"


def test_account_has_no_username_marker(aws_tables: Any, lambda_context: Any) -> None:
    """The account is its profile, its email marker, the token's session and the
    verification mail request, written together."""
    _, body = answer(
        handler("users_register"), with_body("users_register_success", VALID), lambda_context
    )

    keys = sorted(item["pk"]["S"] for item in aws_tables.scan(TableName="UsersTable")["Items"])

    user_id = body["user"]["_id"]
    assert keys == [
        "EMAIL#john.doe@example.com",
        f"MAIL#verify#{user_id}",
        "SESSION#" + session_of(body["token"]),
        f"USER#{user_id}",
    ]


def session_of(token: str) -> str:
    """The session id an access token carries (read without verifying)."""
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


@pytest.mark.usefixtures("atomic_moto")  # see tests/handlers/conftest.py
def test_concurrent_registrations_of_one_email_across_both_calls(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given 10 calls of each flavour for one email at once, exactly one account is made."""

    def signup() -> int:
        return answer(
            handler("users_register"), with_body("users_register_success", VALID), lambda_context
        )[0]

    def classic(index: int) -> int:
        return int(
            handler("register")(api_register_event(f"user{index}"), lambda_context)["statusCode"]
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        signups = [pool.submit(signup) for _ in range(10)]
        classics = [pool.submit(classic, index) for index in range(10)]
        signup_statuses = [future.result() for future in signups]
        classic_statuses = [future.result() for future in classics]

    successes = signup_statuses.count(201) + classic_statuses.count(200)
    assert successes == 1
    assert set(signup_statuses) <= {201, 400}
    assert set(classic_statuses) <= {200, 409}


def test_server_fault_answers_500_in_this_format(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from lockbox.core import dynamodb

    def failing(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems"
        )

    monkeypatch.setattr(dynamodb.client(), "transact_write_items", failing)

    status, body = answer(
        handler("users_register"), with_body("users_register_success", VALID), lambda_context
    )

    assert status == 500
    assert body == {
        "errors": [
            {
                "msg": "An internal server error occurred. Please try again later.",
                "location": "server",
            }
        ]
    }


SPELLINGS = {
    "full-width": ("m@example.com", "m@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"),
    "ideographic-full-stop": ("m@example.com", "m@example\u3002com"),
    "upper-case": ("m@example.com", "M@EXAMPLE.COM"),
    "idna": ("m@b\u00fccher.de", "m@xn--bcher-kva.de"),
    "nfd": ("m@b\u00fccher.de", "m@bu\u0308cher.de"),
    "case-fold": ("stra\u00dfe@example.com", "STRASSE@example.com"),
}


@pytest.mark.parametrize(("first", "second"), SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_second_spelling_of_a_registered_mailbox_is_email_exists(
    aws_tables: Any, lambda_context: Any, first: str, second: str
) -> None:
    """Given an account for one spelling, registering another spelling is EMAIL_EXISTS."""
    assert register(lambda_context, email=first)[0] == 200

    assert register(lambda_context, username="other", email=second) == error(ErrorCode.EMAIL_EXISTS)


@pytest.mark.parametrize(("first", "second"), SPELLINGS.values(), ids=SPELLINGS.keys())
def test_any_spelling_of_the_mailbox_logs_in(
    aws_tables: Any, lambda_context: Any, first: str, second: str
) -> None:
    """Given an account for one spelling, a login with another spelling gets a token."""
    register(lambda_context, email=first)

    status, body = token(lambda_context, second, USER["password"])

    assert status == 200
    assert body["data"]["token_type"] == "Bearer"


def test_the_address_is_returned_as_the_client_sent_it(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given an address with upper case and a Unicode domain, the answer repeats it as sent."""
    status, body = register(lambda_context, email="M@B\u00fccher.de")

    assert status == 200
    assert body["data"]["email"] == "M@B\u00fccher.de"


def test_users_register_shares_the_canonical_form(aws_tables: Any, lambda_context: Any) -> None:
    """Given an /api account, /users/register with another spelling is 400 'Email is already
    registered'."""

    register(lambda_context, email="m@example.com")
    body = {
        "fullname": {"firstname": "Mary", "lastname": "Major"},
        "email": "M@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        "password": "a-long-password",
    }
    response = handler("users_register")(with_body("users_register_success", body), lambda_context)

    assert response["statusCode"] == 400
    assert "Email is already registered" in response["body"]


# --- strictness of text fields (SPEC.md: control characters, 64 characters before @) ----


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "John\x00Doe"),
        ("full_name", "John\x1bDoe"),
        ("gender", "male\x00"),
        ("gender", "\x07female"),
        ("password", "secure_password123\x00extra"),
        ("email", "x" * 65 + "@example.com"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_control_characters_and_long_local_parts_are_invalid_request(
    lambda_context: Any, field: str, value: str
) -> None:
    """Given a control character in a text field, or 65 characters before @, the answer is
    INVALID_REQUEST naming that field, and nothing is written."""
    status, body = register(lambda_context, **{field: value})

    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert field in {detail["field"] for detail in body["details"]}


def test_a_password_with_a_nul_never_matches(aws_tables: Any, lambda_context: Any) -> None:
    """Given an account, its password followed by NUL and more is wrong (bcrypt stops at NUL)."""
    register(lambda_context)

    result = token(lambda_context, USER["username"], USER["password"] + "\x00anything")

    assert result == error(ErrorCode.INVALID_CREDENTIALS)
