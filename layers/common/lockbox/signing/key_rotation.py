"""Rotation of the JWT signing key: the four steps of a Secrets Manager rotation function.

Secrets Manager invokes the rotation function once per step, in the order createSecret,
setSecret, testSecret, finishSecret, with the event `{"Step", "SecretId",
"ClientRequestToken"}`; the token is the id of the new version, labelled AWSPENDING while
the rotation runs. A step may be invoked again after a failure or a timeout, so each one
checks what is already done and does only the rest (idempotent). Contract:
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html

When finishSecret moves AWSCURRENT to the new version, Secrets Manager moves AWSPREVIOUS
to the version it came from; the version before that keeps no label, so its key no
longer verifies (lockbox/signing/signing_keys.py)
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).

The key is used only by this service's functions, which read it from Secrets Manager
themselves: there is no other system to set it in (setSecret does nothing).

Setting rotation up without rotating (the RotationSchedule's RotateImmediatelyOnUpdate:
false, so on a stack's first deploy too) runs testSecret alone: Secrets Manager makes an
AWSPENDING version holding a copy of the current value, invokes testSecret on it, then
removes it. testSecret therefore accepts a pending key equal to the current one; createSecret
is what makes each rotation's key new
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html,
RotateImmediately).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lockbox.core.observability import logger
from lockbox.core.startup import resumes_collection
from lockbox.signing.signing_keys import secretsmanager_client

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
# HS256 needs a key of at least the hash's 256 bits (RFC 7518, section 3.2).
MIN_KEY_LENGTH = 32
PREVIOUS = "AWSPREVIOUS"
# Verifiers accept the current and the previous key; a signer may sign with a key up to its
# cache age late (SigningKeyCacheSeconds, at most 3600 s), and
# the token it signs lives an hour. A rotation sooner than that after the one before could
# drop a key that signed a valid token (or that a container still signs with), so it is
# refused: the key stays current, and the next scheduled rotation makes the change.
MIN_SECONDS_BETWEEN_ROTATIONS = 3 * 3600
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
# The user guide lists the Step values as create_secret, ...; AWS's rotation templates and
# moto send createSecret, ...: both are accepted.
_STEP_ALIASES = {
    "create_secret": "createSecret",
    "set_secret": "setSecret",
    "test_secret": "testSecret",
    "finish_secret": "finishSecret",
}


class RotationError(RuntimeError):
    """The secret is not in a state this step can proceed from: the rotation fails."""


def new_signing_key() -> str:
    """48 random bytes (384 bits) as URL-safe base64: 64 characters."""
    return secrets.token_urlsafe(48)


def rotate_signing_key(
    event: Mapping[str, Any], client: SecretsManagerClient | None = None
) -> None:
    """Run the event's step for the event's secret and version."""
    step, secret_id, token = (
        event.get(name) for name in ("Step", "SecretId", "ClientRequestToken")
    )
    step = _STEP_ALIASES.get(step, step) if isinstance(step, str) else step
    if step not in STEPS or not isinstance(secret_id, str) or not isinstance(token, str):
        raise RotationError(f"not a rotation event: Step={step!r}")
    client = client or secretsmanager_client()
    metadata = client.describe_secret(SecretId=secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled on the secret")
    stages = metadata.get("VersionIdsToStages", {}).get(token)
    if stages is not None and CURRENT in stages:
        logger.info("Version already current", extra={"step": step, "version": token})
        if PENDING in stages:
            _drop_pending_label(client, secret_id, token)
        return
    if step != "createSecret" and (stages is None or PENDING not in stages):
        raise RotationError(f"version {token} is not pending rotation")
    _STEP_FUNCTIONS[step](client, secret_id, token)
    logger.info("Rotation step done", extra={"step": step, "version": token})


def create_secret(client: SecretsManagerClient, secret_id: str, token: str) -> None:
    """A new random key as the pending version (unless a retry finds it already there);
    refused while the previous rotation is less than MIN_SECONDS_BETWEEN_ROTATIONS old."""
    client.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)  # the secret works
    try:
        client.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    _refuse_if_too_soon(client, secret_id)
    client.put_secret_value(
        SecretId=secret_id,
        ClientRequestToken=token,
        SecretString=new_signing_key(),
        VersionStages=[PENDING],
    )


def _now() -> float:
    return time.time()


def _refuse_if_too_soon(client: SecretsManagerClient, secret_id: str) -> None:
    """The current version was made by the last rotation when a previous version exists
    (before the first rotation, the one key is the only key any container can sign with).
    Its age is the CreatedDate GetSecretValue answers for it."""
    stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    if not any(PREVIOUS in labels for labels in stages.values()):
        return
    current = client.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)
    age = _now() - current["CreatedDate"].timestamp()
    if age < MIN_SECONDS_BETWEEN_ROTATIONS:
        raise RotationError(
            f"the last rotation was {int(age)} s ago: rotations must be at least "
            f"{MIN_SECONDS_BETWEEN_ROTATIONS} s apart"
        )


def set_secret(client: SecretsManagerClient, secret_id: str, token: str) -> None:
    """Nothing outside the secret holds the key."""


def test_secret(client: SecretsManagerClient, secret_id: str, token: str) -> None:
    """The pending key is long enough for HS256. It may equal the current key: that is
    Secrets Manager testing the rotation set up without rotating (module docstring)."""
    pending = _value(client, secret_id, VersionId=token, VersionStage=PENDING)
    if len(pending) < MIN_KEY_LENGTH:
        raise RotationError(f"the pending key is shorter than {MIN_KEY_LENGTH} characters")


def finish_secret(client: SecretsManagerClient, secret_id: str, token: str) -> None:
    """AWSCURRENT moves to the new version (Secrets Manager labels the old one AWSPREVIOUS)."""
    versions = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    current = next((vid for vid, stages in versions.items() if CURRENT in stages), None)
    if current != token:
        client.update_secret_version_stage(
            SecretId=secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=token,
            **({"RemoveFromVersionId": current} if current else {}),
        )
    _drop_pending_label(client, secret_id, token)


def _drop_pending_label(client: SecretsManagerClient, secret_id: str, token: str) -> None:
    """The rotation is over: the new version keeps only AWSCURRENT."""
    client.update_secret_version_stage(
        SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=token
    )


def _value(client: SecretsManagerClient, secret_id: str, **selector: str) -> str:
    value = client.get_secret_value(SecretId=secret_id, **selector).get("SecretString")
    if not isinstance(value, str):
        raise RotationError("the secret version has no SecretString")
    return value


_STEP_FUNCTIONS: dict[str, Callable[[SecretsManagerClient, str, str], None]] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}


@resumes_collection
@logger.inject_lambda_context
def rotation_handler(event: dict[str, Any], context: Any) -> None:
    """The rotation function's handler (functions/rotate_signing_key)."""
    rotate_signing_key(event)
