"""Session security (moto): reuse detection over the whole refresh chain, login protection
on the calls that check a password behind a token, ended sessions never coming back,
retried deletions, keys that are not UTF-8, cursors across a key rotation, and the small
input rules of logout, If-Match and login names."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from lockbox.sessions import session_records
from tests.handlers.calls import (
    USER,
    call,
    refresh_handler,
    register,
    token,
    with_body,
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
