"""Session security (moto): reuse detection over the whole refresh chain, login protection
on the calls that check a password behind a token, ended sessions never coming back,
retried deletions, keys that are not UTF-8, cursors across a key rotation, and the small
input rules of logout, If-Match and login names."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from lockbox.core.errors import ErrorCode
from lockbox.sessions import session_records
from lockbox.signing.signing_keys import SigningKey
from lockbox_local.events import load_event
from tests.handlers.accounts import USER
from tests.handlers.calls import answer, call, error, handler, with_body, with_user
from tests.handlers.items import ALICE, event_for_key
from tests.handlers.sessions import as_caller, authorized, log_in, refresh, token


def refreshed(context: Any, refresh_token: str) -> dict[str, Any]:
    status, body = refresh(context, refresh_token)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def session_of(data: dict[str, Any]) -> str:
    return str(jwt.decode(data["access_token"], options={"verify_signature": False})["sid"])


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_records, "REUSE_GRACE_MILLISECONDS", 0)


# --- reuse detection over the whole chain -------------------------------------------------


@pytest.mark.usefixtures("user_id", "no_grace")
def test_a_token_rotated_two_rotations_ago_ends_the_session(lambda_context: Any) -> None:
    """Given a thief who refreshed twice with a stolen token, the victim's original token
    (rotated two rotations ago) ends the whole session: the thief's tokens die too."""
    first = log_in(lambda_context)
    second = refreshed(lambda_context, first["refresh_token"])
    third = refreshed(lambda_context, second["refresh_token"])

    assert refresh(lambda_context, first["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)

    assert refresh(lambda_context, third["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)
    assert authorized(lambda_context, third["access_token"]) is None


@pytest.mark.usefixtures("user_id", "no_grace")
@pytest.mark.parametrize("rotations", [3, 5])
def test_any_earlier_token_of_a_long_chain_ends_the_session(
    lambda_context: Any, rotations: int
) -> None:
    chain = [log_in(lambda_context)]
    for _ in range(rotations):
        chain.append(refreshed(lambda_context, chain[-1]["refresh_token"]))

    assert refresh(lambda_context, chain[1]["refresh_token"])[0] == 401

    assert authorized(lambda_context, chain[-1]["access_token"]) is None
    assert refresh(lambda_context, chain[-1]["refresh_token"])[0] == 401


@pytest.mark.usefixtures("user_id")
def test_the_last_rotated_token_within_the_grace_window_spares_the_session(
    lambda_context: Any,
) -> None:
    first = log_in(lambda_context)
    second = refreshed(lambda_context, first["refresh_token"])
    third = refreshed(lambda_context, second["refresh_token"])

    assert refresh(lambda_context, second["refresh_token"])[0] == 401  # two tabs racing

    assert refreshed(lambda_context, third["refresh_token"])["refresh_token"]


@pytest.mark.usefixtures("user_id", "no_grace")
def test_made_up_tokens_never_end_a_session(lambda_context: Any) -> None:
    """Given tokens that name a live session but were never issued (another secret, another
    chain secret, a changed generation), each is refused and the session lives."""
    first = log_in(lambda_context)
    second = refreshed(lambda_context, first["refresh_token"])
    third = refreshed(lambda_context, second["refresh_token"])
    parts = third["refresh_token"].split(".")
    other = "B" * 43
    made_up = [
        ".".join([*parts[:3], "0", other, parts[5]]),  # an old generation, a guessed chain
        ".".join([*parts[:3], "0", parts[4][:-1] + ("A" if parts[4][-1] != "A" else "B"), other]),
        ".".join([*parts[:5], other]),  # the current generation, a guessed secret
        ".".join([*parts[:3], parts[5]]),  # the old format, a guessed secret
        ".".join([*parts[:3], "9", parts[4], other]),  # a generation not reached
    ]

    for refresh_token in made_up:
        assert refresh(lambda_context, refresh_token) == error(ErrorCode.INVALID_REFRESH_TOKEN)

    assert authorized(lambda_context, third["access_token"]) is not None
    assert refreshed(lambda_context, third["refresh_token"])["refresh_token"]


@pytest.mark.usefixtures("user_id", "no_grace")
def test_a_stale_token_costs_two_requests_and_a_refresh_one(
    lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    first = log_in(lambda_context)
    second = refreshed(lambda_context, first["refresh_token"])
    dynamodb_requests.clear()
    refreshed(lambda_context, second["refresh_token"])
    assert sum(dynamodb_requests.values()) == 1
    dynamodb_requests.clear()

    assert refresh(lambda_context, first["refresh_token"])[0] == 401

    assert sum(dynamodb_requests.values()) == 2


# --- login protection behind a token ------------------------------------------------------


def change_password(
    context: Any, access_token: str, current: str, new: str = "another_pw_42"
) -> tuple[int, dict[str, Any]]:
    body = {"current_password": current, "new_password": new}
    event = as_caller("change_password_success", access_token, context, body)
    return call(handler("change_password"), event, context)


def delete_account(context: Any, access_token: str, password: str) -> tuple[int, dict[str, Any]]:
    event = as_caller("delete_account_success", access_token, context, {"password": password})
    return call(handler("delete_account"), event, context)


@pytest.mark.usefixtures("user_id")
@pytest.mark.parametrize("check", ["password", "delete"])
def test_password_checks_behind_a_token_count_in_the_names_lockout(
    lambda_context: Any, check: str
) -> None:
    """Given 5 wrong passwords on a bearer call, the 6th call is 429 with Retry-After
    without checking the password, and /api/token for the name is locked too."""
    access_token = log_in(lambda_context)["access_token"]

    def guess(password: str) -> tuple[int, dict[str, Any]]:
        if check == "password":
            return change_password(lambda_context, access_token, password)
        return delete_account(lambda_context, access_token, password)

    for _ in range(5):
        assert guess("wrong-password") == error(ErrorCode.INVALID_CREDENTIALS)

    event_body = {"current_password": USER["password"], "new_password": "another_pw_42"}
    name = "change_password_success" if check == "password" else "delete_account_success"
    body = event_body if check == "password" else {"password": USER["password"]}
    event = as_caller(name, access_token, lambda_context, body)
    function = handler("change_password" if check == "password" else "delete_account")
    response = function(event, lambda_context)
    assert response["statusCode"] == 429
    assert int(response["headers"]["Retry-After"]) >= 1
    assert token(lambda_context, USER["username"], USER["password"]) == error(
        ErrorCode.TOO_MANY_REQUESTS
    )


@pytest.mark.usefixtures("user_id")
def test_a_right_password_behind_a_token_clears_the_count(lambda_context: Any) -> None:
    access_token = log_in(lambda_context)["access_token"]
    for _ in range(4):
        assert change_password(lambda_context, access_token, "wrong-password")[0] == 401

    assert change_password(lambda_context, access_token, USER["password"])[0] == 200

    for _ in range(4):  # a fresh count: four more failures do not lock
        assert token(lambda_context, USER["username"], "wrong-password")[0] == 401
    assert token(lambda_context, USER["username"], "another_pw_42")[0] == 200


@pytest.mark.usefixtures("user_id")
def test_password_change_and_deletion_make_three_requests(
    lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """The profile and session read together, the attempt counted, one transaction."""
    access_token = log_in(lambda_context)["access_token"]
    body = {"current_password": USER["password"], "new_password": "another_pw_42"}
    change = as_caller("change_password_success", access_token, lambda_context, body)
    delete = as_caller(
        "delete_account_success", access_token, lambda_context, {"password": "another_pw_42"}
    )
    three = {"BatchGetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1}
    dynamodb_requests.clear()
    assert call(handler("change_password"), change, lambda_context)[0] == 200
    assert dict(dynamodb_requests) == three
    dynamodb_requests.clear()
    assert call(handler("delete_account"), delete, lambda_context)[0] == 200
    assert dict(dynamodb_requests) == three


@pytest.mark.usefixtures("user_id")
def test_every_name_counts_whatever_its_length(lambda_context: Any) -> None:
    long_name = "x" * 300 + "@example.com"
    for _ in range(5):
        assert token(lambda_context, long_name, "wrong-password")[0] == 401
    assert token(lambda_context, long_name, "wrong-password") == error(ErrorCode.TOO_MANY_REQUESTS)
    assert token(lambda_context, "y" * 300, "wrong-password")[0] == 401  # another name


@pytest.mark.usefixtures("user_id")
def test_a_reset_can_clear_a_strangers_lockout(lambda_context: Any) -> None:
    """What a password reset calls: the name's count and lockout are gone at once."""
    from lockbox.sessions import attempt_records

    for _ in range(5):
        token(lambda_context, USER["username"], "wrong-password")
    assert token(lambda_context, USER["username"], USER["password"])[0] == 429
    for _ in range(5):
        token(lambda_context, "nobody_here", "wrong-password")

    attempt_records.clear_count(USER["username"])
    attempt_records.clear_count("nobody_here")
    attempt_records.clear_count("nobody_at_all")  # nothing to clear

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert token(lambda_context, "nobody_here", "wrong-password")[0] == 401


# --- ended sessions never come back --------------------------------------------------------


@pytest.mark.usefixtures("user_id")
def test_an_ended_session_cannot_change_the_password_nor_come_back(
    lambda_context: Any,
) -> None:
    """Given "log out everywhere", an access token of an ended session still accepted by a
    cached decision cannot change the password; its refresh token, access token and
    /users/profile stay refused."""
    ended = log_in(lambda_context)
    other = log_in(lambda_context)
    cached = as_caller(
        "change_password_success",
        ended["access_token"],
        lambda_context,
        {"current_password": USER["password"], "new_password": "another_pw_42"},
    )
    logout = as_caller("logout_all", other["access_token"], lambda_context)
    assert call(handler("logout"), logout, lambda_context)[0] == 200

    assert call(handler("change_password"), cached, lambda_context) == error(
        ErrorCode.INVALID_TOKEN
    )

    assert refresh(lambda_context, ended["refresh_token"]) == error(ErrorCode.INVALID_REFRESH_TOKEN)
    assert authorized(lambda_context, ended["access_token"]) is None
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200  # unchanged


@pytest.mark.usefixtures("user_id")
def test_a_session_ended_alone_cannot_change_the_password(lambda_context: Any) -> None:
    mine = log_in(lambda_context)
    cached = as_caller(
        "change_password_success",
        mine["access_token"],
        lambda_context,
        {"current_password": USER["password"], "new_password": "another_pw_42"},
    )
    logout = as_caller("logout_success", mine["access_token"], lambda_context)
    assert call(handler("logout"), logout, lambda_context)[0] == 200

    assert call(handler("change_password"), cached, lambda_context) == error(
        ErrorCode.INVALID_TOKEN
    )
    assert authorized(lambda_context, mine["access_token"]) is None


@pytest.mark.usefixtures("user_id")
def test_a_password_change_keeps_the_callers_session_only(lambda_context: Any) -> None:
    mine, other = log_in(lambda_context), log_in(lambda_context)

    assert change_password(lambda_context, mine["access_token"], USER["password"])[0] == 200

    assert authorized(lambda_context, mine["access_token"]) is not None
    assert refreshed(lambda_context, mine["refresh_token"])["refresh_token"]
    assert authorized(lambda_context, other["access_token"]) is None
    assert refresh(lambda_context, other["refresh_token"])[0] == 401


# --- retried and simultaneous deletions -------------------------------------------------


@pytest.mark.usefixtures("user_id", "atomic_moto")
def test_simultaneous_deletions_never_say_the_password_is_wrong(lambda_context: Any) -> None:
    access_token = log_in(lambda_context)["access_token"]
    events = [
        as_caller(
            "delete_account_success", access_token, lambda_context, {"password": USER["password"]}
        )
        for _ in range(5)
    ]

    with ThreadPoolExecutor(5) as pool:
        answers = list(
            pool.map(lambda e: call(handler("delete_account"), e, lambda_context), events)
        )

    codes = sorted(body.get("code", "OK") for _, body in answers)
    assert codes.count("OK") >= 1
    assert set(codes) <= {"OK", "INVALID_TOKEN"}, codes
    for status, body in answers:
        if status != 200:
            assert (status, body) == error(ErrorCode.INVALID_TOKEN)


@pytest.mark.usefixtures("user_id")
def test_a_deletion_that_lost_to_another_answers_invalid_token(
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deletion whose read came before another deletion committed, it answers 401
    INVALID_TOKEN (its session ended with the account), not INVALID_CREDENTIALS."""
    from lockbox.accounts import account_records

    access_token = log_in(lambda_context)["access_token"]
    first = as_caller(
        "delete_account_success", access_token, lambda_context, {"password": USER["password"]}
    )
    second = as_caller(
        "delete_account_success", access_token, lambda_context, {"password": USER["password"]}
    )
    real_remove = account_records.remove_account
    done: list[bool] = []

    def other_deletion_first(account: Any, code_use: Any = None) -> None:
        if not done:
            done.append(True)
            assert call(handler("delete_account"), second, lambda_context)[0] == 200
        real_remove(account, code_use)

    monkeypatch.setattr(account_records, "remove_account", other_deletion_first)

    assert call(handler("delete_account"), first, lambda_context) == error(ErrorCode.INVALID_TOKEN)


# --- keys that are not UTF-8 ---------------------------------------------------------------


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("key", ["\ufffd", "a\ufffdb", "\ufffd" * 3])
def test_a_replacement_character_in_a_key_is_invalid_key(lambda_context: Any, key: str) -> None:
    """Given a key a gateway decoded from bytes that are not UTF-8 (U+FFFD in their place),
    every call refuses it with INVALID_KEY before DynamoDB is asked."""
    for key_name in ("get_item", "delete_item"):
        event = event_for_key(f"{key_name}_success", key, ALICE)
        status, body = answer(handler(key_name), event, lambda_context)
        assert (status, body["code"]) == (400, "INVALID_KEY")
    store = with_user(with_body("store_item_success", {"key": key, "value": 1}), ALICE)
    assert answer(handler("store_item"), store, lambda_context)[1]["code"] == "INVALID_KEY"
    listing = with_user(load_event("list_items_success"), ALICE)
    listing["queryStringParameters"] = {"prefix": key}
    status, body = answer(handler("list_items"), listing, lambda_context)
    assert (status, body["code"], body["details"][0]["field"]) == (400, "INVALID_KEY", "prefix")


# --- cursors across a signing-key rotation ------------------------------------------------


def rotate_signing_key_in_moto() -> SigningKey:
    """A new AWSCURRENT version of the signing key in moto, as a rotation leaves it (the one
    before becomes AWSPREVIOUS, the one before that loses its label)."""
    import boto3

    from tests.support import JWT_SECRET_ID

    version_id, value = str(uuid.uuid4()), f"rotated-{uuid.uuid4().hex}" * 2
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=JWT_SECRET_ID, ClientRequestToken=version_id, SecretString=value
    )
    return SigningKey(version_id, value)


def test_a_cursor_survives_a_key_rotation_and_not_two(
    aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a cursor signed before a rotation, a container that has seen the rotation
    accepts it (previous key), and one whose cache predates the rotation accepts a cursor
    signed with the new key (it looks the kid up); after a second rotation the first cursor
    is refused."""
    from lockbox.signing import signing_keys

    for key in ("a1", "a2", "a3"):
        store = with_user(with_body("store_item_success", {"key": key, "value": 1}), ALICE)
        assert answer(handler("store_item"), store, lambda_context)[0] == 200

    def page(cursor: str | None = None) -> tuple[int, dict[str, Any]]:
        event = with_user(load_event("list_items_success"), ALICE)
        event["queryStringParameters"] = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        return answer(handler("list_items"), event, lambda_context)

    before = page()[1]["data"]["cursor"]
    rotated = rotate_signing_key_in_moto()
    with monkeypatch.context() as elsewhere:  # a container that has seen the rotation signs
        elsewhere.setattr(signing_keys, "signing_key", lambda: rotated)
        after = page()[1]["data"]["cursor"]
    assert page(after)[0] == 200  # this container's cache predates the rotation
    signing_keys.forget_cached_key()  # this container sees the rotation
    assert page(before)[0] == 200
    rotate_signing_key_in_moto()
    signing_keys.forget_cached_key()
    assert page(after)[0] == 200
    status, body = page(before)
    assert (status, body["code"]) == (400, "INVALID_PARAMETER")


# --- small input rules ------------------------------------------------------------------


@pytest.mark.usefixtures("user_id")
def test_logout_with_all_null_is_invalid_request(lambda_context: Any) -> None:
    data = log_in(lambda_context)
    event = as_caller("logout_success", data["access_token"], lambda_context, {"all": None})

    status, body = call(handler("logout"), event, lambda_context)

    assert (status, body["code"], body["details"][0]["field"]) == (400, "INVALID_REQUEST", "all")
    assert authorized(lambda_context, data["access_token"]) is not None  # not logged out


def test_if_match_over_two_header_lines_counts_every_line(
    aws_tables: Any, lambda_context: Any
) -> None:
    store = with_user(with_body("store_item_success", {"key": "k", "value": 1}), ALICE)
    status = handler("store_item")(store, lambda_context)
    etag = status["headers"]["ETag"]
    event = event_for_key("delete_item_success", "k", ALICE)
    event["headers"]["If-Match"] = '"other"'  # API Gateway's headers: the last line only
    event["multiValueHeaders"]["If-Match"] = [etag, '"other"']

    assert answer(handler("delete_item"), event, lambda_context)[0] == 200


# --- rotations close together ---------------------------------------------------------------


@pytest.fixture
def rotating_secret() -> Iterator[tuple[Any, str, Any]]:
    """A secret with rotation enabled (moto), its ARN and moto's record of it."""
    import boto3
    from moto import mock_aws
    from moto.secretsmanager.models import secretsmanager_backends

    from lockbox.signing import signing_keys

    with mock_aws():
        signing_keys.secretsmanager_client.cache_clear()
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="lockbox/test/close-rotations", SecretString="f" * 64)[
            "ARN"
        ]
        stored = secretsmanager_backends["123456789012"]["us-east-1"].secrets[
            "lockbox/test/close-rotations"
        ]
        stored.rotation_requested = True
        stored.rotation_enabled = True
        yield client, arn, stored
    signing_keys.secretsmanager_client.cache_clear()


def rotate(client: Any, arn: str, stored: Any) -> str:
    from lockbox.signing.key_rotation import STEPS, rotate_signing_key

    token = str(uuid.uuid4())
    stored.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    for step in STEPS:
        rotate_signing_key({"Step": step, "SecretId": arn, "ClientRequestToken": token}, client)
    return token


def current_version(client: Any, arn: str) -> str:
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next(vid for vid, labels in stages.items() if "AWSCURRENT" in labels)


def test_a_rotation_soon_after_the_previous_one_is_refused(
    rotating_secret: tuple[Any, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a rotation minutes after the previous one, it is refused and nothing changes:
    the key that containers may still sign with stays current or previous; hours later the
    next rotation goes ahead."""
    from lockbox.signing import key_rotation
    from lockbox.signing.key_rotation import MIN_SECONDS_BETWEEN_ROTATIONS, RotationError

    client, arn, stored = rotating_secret
    first = current_version(client, arn)
    second = rotate(client, arn, stored)  # the first rotation: the one key becomes previous
    assert current_version(client, arn) == second

    with pytest.raises(RotationError):
        rotate(client, arn, stored)

    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[second]
    assert "AWSPREVIOUS" in stages[first]
    later = time.time() + MIN_SECONDS_BETWEEN_ROTATIONS + 1
    monkeypatch.setattr(key_rotation, "_now", lambda: later)
    third = rotate(client, arn, stored)
    assert current_version(client, arn) == third
