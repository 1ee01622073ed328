"""The signing-key rotation function's four steps against moto's Secrets Manager.

Secrets Manager starts a rotation by adding the new version id, labelled AWSPENDING and
still without a value, then invokes the function with createSecret, setSecret, testSecret
and finishSecret. `begin_rotation` does the first part (moto's own rotate_secret would
invoke the function through moto's Lambda, which needs Docker).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from functions.rotate_signing_key.app import lambda_handler
from lockbox.signing import key_rotation, signing_keys
from lockbox.signing.key_rotation import STEPS, RotationError
from lockbox_local.worker import LambdaContext

SECRET_NAME = "lockbox/test/rotated-signing-key"
FIRST_KEY = "f" * 64


@dataclass
class Secret:
    client: Any
    arn: str
    backend_secret: Any

    def stages(self) -> dict[str, list[str]]:
        versions: dict[str, list[str]] = self.client.describe_secret(SecretId=self.arn)[
            "VersionIdsToStages"
        ]
        return {vid: stages for vid, stages in versions.items() if stages}

    def value(self, **selector: str) -> str:
        return str(self.client.get_secret_value(SecretId=self.arn, **selector)["SecretString"])

    def begin_rotation(self) -> str:
        token = str(uuid.uuid4())
        self.backend_secret.versions[token] = {
            "createdate": int(time.time()),
            "version_id": token,
            "version_stages": ["AWSPENDING"],
        }
        return token

    def step(self, step: str, token: str) -> None:
        event = {"Step": step, "SecretId": self.arn, "ClientRequestToken": token}
        lambda_handler(event, LambdaContext.for_function("rotate-signing-key"))

    def rotate(self) -> str:
        token = self.begin_rotation()
        for step in STEPS:
            self.step(step, token)
        return token


@pytest.fixture
def secret() -> Iterator[Secret]:
    import boto3
    from moto import mock_aws
    from moto.secretsmanager.models import secretsmanager_backends

    with mock_aws():
        signing_keys.secretsmanager_client.cache_clear()
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name=SECRET_NAME, SecretString=FIRST_KEY)["ARN"]
        stored = secretsmanager_backends["123456789012"]["us-east-1"].secrets[SECRET_NAME]
        # What a RotationSchedule sets up (moto sets it only through rotate_secret).
        stored.rotation_requested = True
        stored.rotation_enabled = True
        stored.auto_rotate_after_days = 30
        yield Secret(client, arn, stored)
    signing_keys.secretsmanager_client.cache_clear()


def test_rotation_makes_a_new_current_key_and_the_old_one_previous(secret: Secret) -> None:
    """Given the four steps, the new version is AWSCURRENT with a fresh 64-character key,
    the first one AWSPREVIOUS, and no AWSPENDING label is left."""
    (first,) = secret.stages()

    token = secret.rotate()

    assert secret.stages() == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}
    new_key = secret.value(VersionStage="AWSCURRENT")
    assert new_key != FIRST_KEY
    assert len(new_key) == 64
    assert secret.value(VersionStage="AWSPREVIOUS") == FIRST_KEY


def test_second_rotation_leaves_the_oldest_key_without_a_label(
    secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two rotations (far enough apart), only the two newest versions keep a label:
    the first key can no longer verify anything."""
    from lockbox.signing import key_rotation

    monkeypatch.setattr(key_rotation, "MIN_SECONDS_BETWEEN_ROTATIONS", 0)
    (first,) = secret.stages()
    second = secret.rotate()

    third = secret.rotate()

    assert secret.stages() == {third: ["AWSCURRENT"], second: ["AWSPREVIOUS"]}
    assert first not in secret.stages()


@pytest.mark.parametrize("step", STEPS)
def test_each_step_run_twice_does_what_it_did_once(secret: Secret, step: str) -> None:
    """Given a step invoked again (Secrets Manager retries), the outcome is the same."""
    (first,) = secret.stages()
    token = secret.begin_rotation()
    for done in STEPS[: STEPS.index(step) + 1]:
        secret.step(done, token)
    pending_key = secret.value(VersionId=token)

    secret.step(step, token)
    for rest in STEPS[STEPS.index(step) + 1 :]:
        secret.step(rest, token)

    assert secret.value(VersionId=token) == pending_key
    assert secret.stages() == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}


def test_step_names_as_the_user_guide_spells_them_work_too(secret: Secret) -> None:
    """Given create_secret ... finish_secret (the user guide's spelling), the same rotation."""
    (first,) = secret.stages()
    token = secret.begin_rotation()

    for step in ("create_secret", "set_secret", "test_secret", "finish_secret"):
        secret.step(step, token)

    assert secret.stages() == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}


def test_create_secret_keeps_a_pending_key_already_there(secret: Secret) -> None:
    """Given createSecret retried after it stored the key, the key is not replaced."""
    token = secret.begin_rotation()
    secret.step("createSecret", token)
    created = secret.value(VersionId=token, VersionStage="AWSPENDING")

    secret.step("createSecret", token)

    assert secret.value(VersionId=token, VersionStage="AWSPENDING") == created


def test_create_secret_also_works_when_the_version_is_not_registered_yet(secret: Secret) -> None:
    """Given a token Secrets Manager has not listed yet, createSecret stores it as pending."""
    token = str(uuid.uuid4())

    secret.step("createSecret", token)

    assert secret.stages()[token] == ["AWSPENDING"]


def test_finish_secret_retried_after_the_label_moved_drops_the_pending_label(
    secret: Secret,
) -> None:
    """Given finishSecret interrupted after AWSCURRENT moved, its retry only cleans up."""
    (first,) = secret.stages()
    token = secret.begin_rotation()
    for step in STEPS[:3]:
        secret.step(step, token)
    secret.client.update_secret_version_stage(
        SecretId=secret.arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=first,
    )

    secret.step("finishSecret", token)

    assert secret.stages() == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}


def test_set_secret_changes_nothing(secret: Secret) -> None:
    token = secret.begin_rotation()
    secret.step("createSecret", token)
    before = secret.stages()

    secret.step("setSecret", token)

    assert secret.stages() == before


def test_test_secret_refuses_a_key_too_short_for_hs256(secret: Secret) -> None:
    """Given a pending key too short for HS256, testSecret fails and the current key stays
    current."""
    token = secret.begin_rotation()
    secret.client.put_secret_value(
        SecretId=secret.arn,
        ClientRequestToken=token,
        SecretString="short-key",
        VersionStages=["AWSPENDING"],
    )

    with pytest.raises(RotationError, match="shorter than 32"):
        secret.step("testSecret", token)
    assert secret.value(VersionStage="AWSCURRENT") == FIRST_KEY


def test_a_step_for_a_version_not_pending_fails(secret: Secret) -> None:
    """Given setSecret for a version that is not AWSPENDING, the rotation fails."""
    with pytest.raises(RotationError, match="not pending"):
        secret.step("setSecret", str(uuid.uuid4()))


def test_finished_version_is_left_alone_by_any_step(secret: Secret) -> None:
    """Given a step for the version that is already AWSCURRENT, nothing changes."""
    token = secret.rotate()
    before = secret.stages()

    for step in STEPS:
        secret.step(step, token)

    assert secret.stages() == before


def test_rotation_not_enabled_fails(secret: Secret) -> None:
    secret.backend_secret.rotation_enabled = False

    with pytest.raises(RotationError, match="not enabled"):
        secret.step("createSecret", secret.begin_rotation())


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Step": "deleteSecret", "SecretId": SECRET_NAME, "ClientRequestToken": "t" * 36},
        {"Step": "createSecret", "SecretId": SECRET_NAME},
    ],
)
def test_an_event_that_is_not_a_rotation_step_fails(secret: Secret, event: dict[str, Any]) -> None:
    with pytest.raises(RotationError, match="not a rotation event"):
        lambda_handler(event, LambdaContext.for_function("rotate-signing-key"))


def test_new_keys_are_random_and_long_enough() -> None:
    keys = {key_rotation.new_signing_key() for _ in range(100)}

    assert len(keys) == 100
    assert all(len(key) == 64 for key in keys)


# --- rotation set up by a first deploy ---------------------------------------------------


@pytest.fixture
def rotation_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[str]]]:
    """moto with a rotation function whose invocations run this project's handler in-process
    (moto's Lambda would need Docker); yields the Lambda ARN and the steps invoked."""
    import json
    import zipfile
    from io import BytesIO

    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend

    steps: list[str] = []

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, **_: Any) -> bytes:
        event = json.loads(body)
        steps.append(event["Step"])
        lambda_handler(event, LambdaContext.for_function("rotate-signing-key"))
        return b"null"

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    with mock_aws():
        signing_keys.secretsmanager_client.cache_clear()
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="rotate-signing-key", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        package = BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context): pass\n")
        arn = boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName="rotate-signing-key",
            Runtime="python3.13",
            Role=role,
            Handler="app.lambda_handler",
            Code={"ZipFile": package.getvalue()},
        )["FunctionArn"]
        yield arn, steps
    signing_keys.secretsmanager_client.cache_clear()


def test_rotation_set_up_on_create_tests_the_function_and_keeps_the_key(
    rotation_function: tuple[Any, list[str]],
) -> None:
    """Given a new secret and a RotationSchedule with RotateImmediatelyOnUpdate false (a first
    deploy), Secrets Manager runs only testSecret, on an AWSPENDING copy of the current
    value it makes itself: the step succeeds, rotation is on, and the key is unchanged."""
    import boto3

    arn, steps = rotation_function
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name=SECRET_NAME, SecretString=FIRST_KEY)

    client.rotate_secret(
        SecretId=SECRET_NAME,
        RotationLambdaARN=arn,
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )

    assert steps == ["testSecret"]
    described = client.describe_secret(SecretId=SECRET_NAME)
    assert described["RotationEnabled"] is True
    assert client.get_secret_value(SecretId=SECRET_NAME)["SecretString"] == FIRST_KEY
