"""POST /api/token through its Lambda handler, against moto (DynamoDB and Secrets Manager)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from lockbox.accounts import passwords
from lockbox.core.errors import ErrorCode
from lockbox.sessions import attempt_records
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register
from tests.handlers.calls import (
    Answer,
    answer,
    call,
    conflict_once,
    error,
    handler,
    meanwhile,
    on_first_call,
    with_body,
    without_details,
)
from tests.handlers.sessions import LoginClock, access_token, token
from tests.handlers.test_activity import names


def test_success_answers_the_token_envelope(user_id: str, lambda_context: Any) -> None:
    """Given a registered user, when asking for a token, then 200 with a Bearer JWT for 3600 s."""
    status, body = call(handler("token"), load_event("token_success"), lambda_context)

    assert status == 200
    assert body["message"] == "Access token generated successfully."
    assert set(body["data"]) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["data"]["refresh_expires_in"] == 2592000
    assert body["data"]["token_type"] == "Bearer"
    assert type(body["data"]["expires_in"]) is int
    assert body["data"]["expires_in"] == 3600


def test_access_token_is_a_jwt_with_every_claim(
    user_id: str, lambda_context: Any, jwt_signing_key: str
) -> None:
    """Given a login, the access token is an HS256 JWT with every claim, for this user."""
    _, body = call(handler("token"), load_event("token_success"), lambda_context)
    token_text = body["data"]["access_token"]

    claims = jwt.decode(
        token_text,
        jwt_signing_key,
        algorithms=["HS256"],
        audience="lockbox-api-clients",
        issuer="lockbox-api/test",
    )

    assert jwt.get_unverified_header(token_text)["alg"] == "HS256"
    assert set(claims) == {"sub", "iat", "exp", "iss", "aud", "jti", "sid"}
    assert claims["sub"] == user_id
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]


@pytest.mark.parametrize(
    "login",
    ["johndoe", "JOHNDOE", "john.doe@example.com", "John.Doe@Example.COM"],
)
def test_login_by_username_or_email_in_any_case(
    user_id: str, lambda_context: Any, jwt_signing_key: str, login: str
) -> None:
    """Given the username or the email in any case, the token is for the account."""
    status, body = token(lambda_context, login, USER["password"])

    assert status == 200
    claims = jwt.decode(
        body["data"]["access_token"],
        jwt_signing_key,
        algorithms=["HS256"],
        audience="lockbox-api-clients",
    )
    assert claims["sub"] == user_id


def test_token_by_email_event(user_id: str, lambda_context: Any) -> None:
    """Given events/token_by_email.json, a token is issued."""
    status, _ = call(handler("token"), load_event("token_by_email"), lambda_context)

    assert status == 200


def test_two_logins_get_different_tokens(user_id: str, lambda_context: Any) -> None:
    """Given two logins, two different tokens (distinct jti)."""
    _, first = token(lambda_context, "johndoe", USER["password"])
    _, second = token(lambda_context, "johndoe", USER["password"])

    assert first["data"]["access_token"] != second["data"]["access_token"]


@pytest.mark.parametrize("event_name", ["token_wrong_password", "token_unknown_user"])
def test_bad_credentials_answer_invalid_credentials(
    user_id: str, lambda_context: Any, event_name: str
) -> None:
    """Given a wrong password or an unknown user, INVALID_CREDENTIALS."""
    assert call(handler("token"), load_event(event_name), lambda_context) == error(
        ErrorCode.INVALID_CREDENTIALS
    )


def test_unknown_user_and_wrong_password_get_identical_responses(
    user_id: str, lambda_context: Any
) -> None:
    """Given an unknown user and a wrong password, the two responses are byte for byte equal."""
    unknown = handler("token")(load_event("token_unknown_user"), lambda_context)
    wrong = handler("token")(load_event("token_wrong_password"), lambda_context)

    assert unknown == wrong


@pytest.mark.parametrize(
    ("login", "password"),
    [
        pytest.param("johndoe", "secure_password123" + "x" * 60, id="password-over-72-bytes"),
        pytest.param("johndoe", "SECURE_PASSWORD123", id="password-case-differs"),
        pytest.param("john.doe@example.org", "secure_password123", id="unknown-email"),
        pytest.param("x" * 300, "secure_password123", id="login-over-254-chars"),
        pytest.param("john\ud800", "secure_password123", id="login-lone-surrogate"),
        pytest.param("johndoe", "secure\ud800", id="password-lone-surrogate"),
        pytest.param("USER#johndoe", "secure_password123", id="raw-key-prefix"),
    ],
)
def test_other_credential_failures_are_invalid_credentials(
    user_id: str, lambda_context: Any, login: str, password: str
) -> None:
    """Given credentials that match no account, INVALID_CREDENTIALS (never another code)."""
    assert token(lambda_context, login, password) == error(ErrorCode.INVALID_CREDENTIALS)


def test_unknown_user_still_costs_one_bcrypt_check(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an unknown user, one bcrypt check runs (about the latency of a real one)."""
    checks: list[bytes] = []
    real = passwords.bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)

    token(lambda_context, "nobody_here", "secure_password123")

    assert len(checks) == 1
    assert checks[0].startswith(b"$2b$04$")


def test_password_over_72_bytes_matching_the_first_72_is_refused(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a 72-byte password, its 73-byte extension does not log in (bcrypt never truncates)."""
    register(lambda_context, password="q" * 72)

    assert token(lambda_context, "johndoe", "q" * 72)[0] == 200
    assert token(lambda_context, "johndoe", "q" * 73) == error(ErrorCode.INVALID_CREDENTIALS)


@pytest.mark.usefixtures("no_dynamodb")
def test_missing_fields_event(lambda_context: Any) -> None:
    """Given events/token_missing_fields.json, MISSING_FIELDS naming the password."""
    status, body = call(handler("token"), load_event("token_missing_fields"), lambda_context)

    assert without_details((status, body)) == error(ErrorCode.MISSING_FIELDS)
    assert body["details"][0]["field"] == "password"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"username": "", "password": "secure_password123"}, id="empty-username"),
        pytest.param({"username": "johndoe", "password": "   "}, id="blank-password"),
        pytest.param({"username": 7, "password": "secure_password123"}, id="numeric-username"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_missing_fields(lambda_context: Any, body: dict[str, Any]) -> None:
    """Given a field missing, blank or not a string, MISSING_FIELDS."""
    result = call(handler("token"), with_body("token_success", body), lambda_context)

    assert without_details(result) == error(ErrorCode.MISSING_FIELDS)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{'username': 'johndoe'}", id="malformed"),
        pytest.param('["johndoe", "secure_password123"]', id="array"),
        pytest.param(None, id="no-body"),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_body_that_is_not_a_json_object_is_invalid_request(
    lambda_context: Any, raw: str | None
) -> None:
    """Given a body that is not a JSON object, INVALID_REQUEST."""
    result = call(handler("token"), with_body("token_success", raw), lambda_context)

    assert result == error(ErrorCode.INVALID_REQUEST)


WRONG = "wrong-password-1"


def locked_for(refused: Answer) -> int:
    """Retry-After of a 429 answer (asserts its body)."""
    status, body = refused
    assert status == 429
    assert body["code"] == "TOO_MANY_REQUESTS"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    return int(refused.headers["Retry-After"])


@pytest.mark.parametrize(
    "name",
    [USER["username"], "nobody_has_this_name", "ghost@example.com"],
    ids=["user", "unknown", "email"],
)
def test_five_failures_then_429_with_retry_after(
    user_id: str, lambda_context: Any, name: str, login_clock: LoginClock
) -> None:
    """Given 5 failures for a name (with or without an account), the next login is refused
    without a password check, for 1 s; then 2 s after the next failure."""
    for _ in range(5):
        assert token(lambda_context, name, WRONG) == error(ErrorCode.INVALID_CREDENTIALS)

    assert locked_for(token(lambda_context, name, USER["password"])) == 1
    login_clock.advance(1)
    assert token(lambda_context, name, WRONG) == error(ErrorCode.INVALID_CREDENTIALS)
    assert locked_for(token(lambda_context, name, WRONG)) == 2


def test_names_count_in_canonical_form(user_id: str, lambda_context: Any) -> None:
    for spelling in ("JohnDoe", "JOHNDOE", "johndoe", "jOhNdOe", "JohnDOE"):
        assert token(lambda_context, spelling, WRONG)[0] == 401

    assert locked_for(token(lambda_context, "johndoe", USER["password"])) == 1


def test_success_resets_the_count(user_id: str, lambda_context: Any) -> None:
    for _ in range(4):
        token(lambda_context, USER["username"], WRONG)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200

    for _ in range(5):
        assert token(lambda_context, USER["username"], WRONG)[0] == 401


def test_fifteen_quiet_minutes_reset_the_count(
    user_id: str, lambda_context: Any, aws_tables: Any, login_clock: LoginClock
) -> None:
    for _ in range(7):
        token(lambda_context, USER["username"], WRONG)
        login_clock.advance(0.01)
    long_ago = login_clock.now_ms - (attempt_records.QUIET_RESET_SECONDS + 1) * 1000
    aws_tables.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": "USERNAME#johndoe"}},
        UpdateExpression="SET last_attempt = :t",
        ExpressionAttributeValues={":t": {"N": str(long_ago)}},
    )

    assert [token(lambda_context, USER["username"], WRONG)[0] for _ in range(5)] == [401] * 5
    # The count started again from zero: five failures, not twelve.
    marker = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})
    assert marker["Item"]["attempts"] == {"N": "5"}


@pytest.mark.usefixtures("atomic_moto")
def test_twenty_parallel_guesses_get_exactly_five_password_checks(
    user_id: str, lambda_context: Any
) -> None:
    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(
            pool.map(lambda _: token(lambda_context, USER["username"], WRONG)[0], range(20))
        )

    assert statuses == [401] * 5 + [429] * 15


def test_unknown_names_get_the_same_answers_and_expire(
    user_id: str, lambda_context: Any, aws_tables: Any
) -> None:
    """A name without an account keeps only a count, with a TTL; a real account's marker
    never gets a numeric TTL."""
    token(lambda_context, "no_such_user", WRONG)
    token(lambda_context, USER["username"], WRONG)

    ghost = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#no_such_user"}})
    real = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})
    assert int(ghost["Item"]["expires_at"]["N"]) > time.time()
    assert "N" not in real["Item"]["expires_at"]  # a string: TTL ignores it


def test_a_counted_name_can_still_be_registered(aws_tables: Any, lambda_context: Any) -> None:
    for _ in range(3):
        token(lambda_context, USER["username"], WRONG)

    assert register(lambda_context)[0] == 200
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_login_makes_at_most_two_requests(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    token(lambda_context, USER["username"], USER["password"])
    assert dict(dynamodb_requests) == {"UpdateItem": 1, "TransactWriteItems": 1}
    dynamodb_requests.clear()

    token(lambda_context, USER["username"], WRONG)
    # The failure's record and its activity event: one transaction.
    assert dict(dynamodb_requests) == {"UpdateItem": 1, "TransactWriteItems": 1}
    dynamodb_requests.clear()

    token(lambda_context, "nobody-has-this-name", WRONG)
    assert dict(dynamodb_requests) == {"UpdateItem": 2}  # no account: no one to tell
    dynamodb_requests.clear()

    for _ in range(5):
        token(lambda_context, USER["username"], WRONG)
    dynamodb_requests.clear()
    token(lambda_context, USER["username"], USER["password"])
    assert dict(dynamodb_requests) == {"UpdateItem": 1}  # refused before bcrypt


def test_users_login_shares_the_count_and_answers_its_own_shape(
    user_id: str, lambda_context: Any
) -> None:
    for _ in range(5):
        token(lambda_context, USER["email"], WRONG)
    body = {"email": USER["email"].upper(), "password": USER["password"]}

    answer = handler("users_login")(with_body("users_login_success", body), lambda_context)

    assert answer["statusCode"] == 429
    assert json.loads(answer["body"]) == {"message": "Too many requests. Please try again later."}
    assert answer["headers"]["Retry-After"] == "1"
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"


def test_a_login_whose_transaction_meets_a_concurrent_count_is_tried_again(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the session's transaction cancelled once for a conflict (another login of the
    name counted at that moment), the login still succeeds."""
    calls = conflict_once(monkeypatch, "transact_write_items", ["None", "TransactionConflict"])

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert len(calls) == 2  # cancelled once, then sent again


def count_of(aws_tables: Any) -> dict[str, Any]:
    """The login protection's record of the sample account's username."""
    marker = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})
    return dict(marker["Item"])


def test_a_count_whose_answer_was_lost_counts_one_attempt(
    user_id: str, lambda_context: Any, aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the count's UpdateItem applied but sent again (the SDK's retry after a lost
    answer), the second one finds its own attempt: the login is counted once."""

    def sent_twice(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        real(**kwargs)  # applied; its answer is lost
        return real(**kwargs)

    on_first_call(monkeypatch, "update_item", sent_twice)

    assert token(lambda_context, USER["username"], WRONG) == error(ErrorCode.INVALID_CREDENTIALS)
    assert count_of(aws_tables)["attempts"] == {"N": "1"}


def test_a_count_meeting_a_transaction_on_the_name_is_counted_again(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the count refused once with TransactionConflict (a password change writing
    the marker at that moment), it is sent again and the login succeeds."""

    def conflicted(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        error = {"Code": "TransactionConflictException", "Message": "conflict"}
        raise ClientError({"Error": error}, "UpdateItem")

    sent = on_first_call(monkeypatch, "update_item", conflicted)

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert len(sent) == 2


def test_a_stale_count_restarted_first_by_another_attempt_counts_after_it(
    user_id: str, lambda_context: Any, aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a count quiet for over 15 minutes that another attempt restarts just before
    this one would, this attempt is counted on top of it: two attempts, not one."""
    token(lambda_context, USER["username"], WRONG)
    aws_tables.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": "USERNAME#johndoe"}},
        UpdateExpression="SET last_attempt = :t",
        ExpressionAttributeValues={":t": {"N": "1"}},
    )
    real = attempt_records._restart_count

    def overtaken(*args: Any) -> Any:
        monkeypatch.setattr(attempt_records, "_restart_count", real)
        assert token(lambda_context, USER["username"], WRONG)[0] == 401  # restarts it first
        return real(*args)

    monkeypatch.setattr(attempt_records, "_restart_count", overtaken)

    assert token(lambda_context, USER["username"], WRONG)[0] == 401
    assert count_of(aws_tables)["attempts"] == {"N": "2"}


def test_a_failure_after_a_success_reset_the_count_is_still_in_the_activity_log(
    user_id: str, lambda_context: Any, aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a login that succeeded (and cleared the count) while a wrong password was
    being checked, the failure leaves no count behind but is in the activity log."""
    from lockbox.sessions import login_calls

    signed_in: list[str] = []
    success = lambda: signed_in.append(access_token(lambda_context))  # noqa: E731
    meanwhile(monkeypatch, login_calls, "verify_password", success)

    assert token(lambda_context, USER["username"], WRONG) == error(ErrorCode.INVALID_CREDENTIALS)
    assert "attempts" not in count_of(aws_tables)
    assert names(lambda_context, signed_in[0])[:2] == ["login_failed", "login"]


# --- POST /users/login ----------------------------------------------------------------------


def test_users_login_of_an_api_account_splits_its_full_name(
    user_id: str, lambda_context: Any
) -> None:
    event = with_body("users_login_success", {"email": USER["email"], "password": USER["password"]})

    status, body = answer(handler("users_login"), event, lambda_context)

    assert status == 200
    assert body["user"] == {
        "_id": user_id,
        "fullname": {"firstname": "John", "lastname": "Doe"},
        "email": USER["email"],
        "socketId": None,
    }


def test_users_login_refusals(user_id: str, lambda_context: Any, no_dynamodb: None) -> None:
    status, body = answer(
        handler("users_login"), load_event("users_login_invalid_fields"), lambda_context
    )

    assert status == 400
    assert body == {
        "errors": [
            {
                "type": "field",
                "msg": "Invalid Email",
                "param": "email",
                "path": "email",
                "location": "body",
            },
            {
                "type": "field",
                "msg": "Password must be at least 6 characters long",
                "param": "password",
                "path": "password",
                "location": "body",
            },
        ]
    }


def test_users_login_wrong_password(user_id: str, lambda_context: Any) -> None:
    event = with_body("users_login_success", {"email": USER["email"], "password": "wrong-one"})

    assert answer(handler("users_login"), event, lambda_context) == (
        401,
        {"message": "Invalid email or password"},
    )
