"""Session security (moto): reuse detection over the whole refresh chain, login protection
on the calls that check a password behind a token, ended sessions never coming back,
retried deletions, keys that are not UTF-8, cursors across a key rotation, and the small
input rules of logout, If-Match and login names."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from lockbox.sessions import session_records
from tests.handlers.calls import (
    USER,
    as_caller,
    authorized,
    call,
    delete_handler,
    event_for_key,
    get_handler,
    list_handler,
    load_event,
    logout_handler,
    refresh_handler,
    register,
    store_handler,
    token,
    with_body,
    with_user,
)


def log_in(context: Any, password: str = USER["password"]) -> dict[str, Any]:
    status, body = token(context, USER["username"], password)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def refresh(context: Any, refresh_token: object) -> tuple[int, dict[str, Any]]:
    return call(
        refresh_handler,
        with_body("token_refresh_success", {"refresh_token": refresh_token}),
        context,
    )


def refreshed(context: Any, refresh_token: str) -> dict[str, Any]:
    status, body = refresh(context, refresh_token)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def session_of(data: dict[str, Any]) -> str:
    return str(jwt.decode(data["access_token"], options={"verify_signature": False})["sid"])


@pytest.fixture
def account(aws_tables: Any, lambda_context: Any) -> str:
    status, body = register(lambda_context)
    assert status == 200
    return str(body["data"]["user_id"])


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_records, "REUSE_GRACE_MILLISECONDS", 0)


# --- keys that are not UTF-8 ---------------------------------------------------------------

ALICE = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"


def raw(handler: Any, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = handler(event, context)
    return int(response["statusCode"]), json.loads(response["body"])


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("key", ["\ufffd", "a\ufffdb", "\ufffd" * 3])
def test_a_replacement_character_in_a_key_is_invalid_key(lambda_context: Any, key: str) -> None:
    """Given a key a gateway decoded from bytes that are not UTF-8 (U+FFFD in their place),
    every call refuses it with INVALID_KEY before DynamoDB is asked."""
    for name, handler in (
        ("get_item_success", get_handler),
        ("delete_item_success", delete_handler),
    ):
        status, body = raw(handler, event_for_key(name, key, ALICE), lambda_context)
        assert (status, body["code"]) == (400, "INVALID_KEY")
    store = with_user(with_body("store_item_success", {"key": key, "value": 1}), ALICE)
    assert raw(store_handler, store, lambda_context)[1]["code"] == "INVALID_KEY"
    listing = with_user(load_event("list_items_success"), ALICE)
    listing["queryStringParameters"] = {"prefix": key}
    status, body = raw(list_handler, listing, lambda_context)
    assert (status, body["code"], body["details"][0]["field"]) == (400, "INVALID_KEY", "prefix")


# --- cursors across a signing-key rotation ------------------------------------------------


@pytest.fixture
def rotatable_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A secrets extension stand-in of this test's own, whose key can be rotated."""
    from lockbox.core.settings import get_settings
    from lockbox.signing import signing_keys
    from lockbox_local.local_secrets import LocalSecret, LocalSecrets, SecretVersion
    from lockbox_local.secrets_extension import SecretsExtensionServer
    from tests.support import JWT_SECRET_ID, SESSION_TOKEN

    version = SecretVersion(str(uuid.uuid4()), "k" * 64, ("AWSCURRENT",), time.time())
    local = LocalSecrets({JWT_SECRET_ID: LocalSecret((version,))})
    server = SecretsExtensionServer(local, SESSION_TOKEN).start()
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(server.port))
    get_settings.cache_clear()
    signing_keys.forget_cached_key()
    yield local
    server.stop()


def test_a_cursor_survives_a_key_rotation_and_not_two(
    aws_tables: Any, lambda_context: Any, rotatable_key: Any
) -> None:
    """Given a cursor signed before a rotation, a container that has seen the rotation
    accepts it (previous key), and one whose cache predates the rotation accepts a cursor
    signed with the new key; after a second rotation the first cursor is refused."""
    from lockbox.signing import signing_keys
    from tests.support import JWT_SECRET_ID

    for key in ("a1", "a2", "a3"):
        store = with_user(with_body("store_item_success", {"key": key, "value": 1}), ALICE)
        assert raw(store_handler, store, lambda_context)[0] == 200

    def page(cursor: str | None = None) -> tuple[int, dict[str, Any]]:
        event = with_user(load_event("list_items_success"), ALICE)
        event["queryStringParameters"] = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        return raw(list_handler, event, lambda_context)

    before = page()[1]["data"]["cursor"]
    stale_cache = signing_keys._cached
    rotatable_key.rotate(JWT_SECRET_ID)
    signing_keys.forget_cached_key()  # this container sees the rotation
    assert page(before)[0] == 200
    after = page()[1]["data"]["cursor"]
    signing_keys._cached = stale_cache  # a container whose cache predates the rotation
    assert page(after)[0] == 200
    rotatable_key.rotate(JWT_SECRET_ID)
    signing_keys.forget_cached_key()
    assert page(after)[0] == 200
    status, body = page(before)
    assert (status, body["code"]) == (400, "INVALID_PARAMETER")


# --- small input rules ------------------------------------------------------------------


@pytest.mark.usefixtures("account")
def test_logout_with_all_null_is_invalid_request(lambda_context: Any) -> None:
    data = log_in(lambda_context)
    event = as_caller("logout_success", data["access_token"], lambda_context, {"all": None})

    status, body = call(logout_handler, event, lambda_context)

    assert (status, body["code"], body["details"][0]["field"]) == (400, "INVALID_REQUEST", "all")
    assert authorized(lambda_context, data["access_token"]) is not None  # not logged out


def test_if_match_over_two_header_lines_counts_every_line(
    aws_tables: Any, lambda_context: Any
) -> None:
    store = with_user(with_body("store_item_success", {"key": "k", "value": 1}), ALICE)
    status = store_handler(store, lambda_context)
    etag = status["headers"]["ETag"]
    event = event_for_key("delete_item_success", "k", ALICE)
    event["headers"]["If-Match"] = '"other"'  # API Gateway's headers: the last line only
    event["multiValueHeaders"]["If-Match"] = [etag, '"other"']

    assert raw(delete_handler, event, lambda_context)[0] == 200


# --- rotations close together ---------------------------------------------------------------


@pytest.fixture
def rotating_secret() -> Iterator[tuple[Any, str, Any]]:
    """A secret with rotation enabled (moto), its ARN and moto's record of it."""
    import boto3
    from moto import mock_aws
    from moto.secretsmanager.models import secretsmanager_backends

    from lockbox.signing import key_rotation

    with mock_aws():
        key_rotation.secretsmanager_client.cache_clear()
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
    key_rotation.secretsmanager_client.cache_clear()


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
