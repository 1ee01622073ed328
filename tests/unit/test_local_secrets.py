"""The local stack's secrets: versions and staging labels, kept in the data dir, served by
the secrets extension stand-in the way the extension serves them."""

from __future__ import annotations

import http.client
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lockbox.signing import key_rotation
from lockbox_local.intrinsics import Resolver, parameter_values
from lockbox_local.local_secrets import (
    SECRETS_FILE,
    LocalSecret,
    LocalSecrets,
    local_secret_values,
    new_signing_key,
    rotate_stored,
)
from lockbox_local.rotate_key import rotated_secrets
from lockbox_local.secrets_extension import SecretsExtensionServer
from lockbox_local.template import load_template

TOKEN = "local-session-token"


def template_secrets(data_dir: Path | None) -> LocalSecrets:
    template = load_template()
    return local_secret_values(
        template, Resolver(template, parameter_values(template, {})), data_dir
    )


def ident(secret: LocalSecret | None, stage: str = "AWSCURRENT") -> tuple[str, str]:
    """The (version id, value) labelled stage."""
    assert secret is not None
    version = secret.find(stage=stage)
    assert version is not None
    return version.version_id, version.value


def stages(secret: LocalSecret | None) -> dict[str, tuple[str, ...]]:
    assert secret is not None
    return {version.version_id: version.stages for version in secret.versions}


def test_rotation_moves_the_labels_and_drops_the_oldest() -> None:
    first = LocalSecret.new("one")
    (first_id,) = stages(first)

    second = first.rotated("two")
    third = second.rotated("three")

    second_id = next(v for v, s in stages(second).items() if s == ("AWSCURRENT",))
    assert stages(second) == {second_id: ("AWSCURRENT",), first_id: ("AWSPREVIOUS",)}
    assert first_id not in stages(third)
    assert stages(third)[second_id] == ("AWSPREVIOUS",)
    assert [v.value for v in third.versions] == ["three", "two"]


def test_the_key_is_kept_owner_only_and_rotations_persist(tmp_path: Path) -> None:
    """Given a data dir, the generated key is stored 0600; a rotation there is what the
    next reader sees."""
    before = template_secrets(tmp_path).get("JwtSigningKey")
    path = tmp_path / SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    rotate_stored(tmp_path, "JwtSigningKey")

    after = template_secrets(tmp_path).get("JwtSigningKey")
    assert before is not None
    assert after is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ident(after, "AWSPREVIOUS") == ident(before)
    assert ident(after) != ident(before)


def test_a_running_reader_sees_a_rotation_of_the_file(tmp_path: Path) -> None:
    """Given the stack's secrets read once, a rotation of the file is seen on the next get."""
    running = template_secrets(tmp_path)
    before = running.get("JwtSigningKey")

    rotate_stored(tmp_path, "JwtSigningKey")

    after = running.get("JwtSigningKey")
    assert after is not None
    assert before is not None
    assert ident(after, "AWSPREVIOUS") == ident(before)


def test_a_key_stored_before_versions_were_kept_stays_valid(tmp_path: Path) -> None:
    """Given secrets.json holding the bare key (older releases), it is the current version,
    with one version id whoever reads it, and the file is upgraded."""
    (tmp_path / SECRETS_FILE).write_text(json.dumps({"JwtSigningKey": "k" * 64}))

    first, second = (template_secrets(tmp_path).get("JwtSigningKey") for _ in range(2))

    assert first is not None
    assert second is not None
    assert first.find() == second.find()
    current = first.find()
    assert current is not None
    assert current.value == "k" * 64
    assert json.loads((tmp_path / SECRETS_FILE).read_text())["JwtSigningKey"]["versions"]


def test_in_memory_secrets_rotate_in_memory() -> None:
    local = template_secrets(None)
    before = local.get("JwtSigningKey")

    local.rotate("JwtSigningKey")

    after = local.get("JwtSigningKey")
    assert before is not None
    assert after is not None
    assert ident(after, "AWSPREVIOUS") == ident(before)


def test_rotate_key_rotates_the_secrets_the_template_schedules() -> None:
    assert rotated_secrets(load_template()) == ["JwtSigningKey"]


def test_local_rotation_makes_keys_as_the_rotation_function_does() -> None:
    local, aws = new_signing_key(), key_rotation.new_signing_key()

    assert len(local) == len(aws) == 64
    assert set(local + aws) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


# --- the stand-in -------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[SecretsExtensionServer, LocalSecrets]]:
    local = LocalSecrets.of_values({"key": "one"})
    local.rotate("key", "two")
    server = SecretsExtensionServer(local, TOKEN).start()
    yield server, local
    server.stop()


def get(server: SecretsExtensionServer, query: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(
            "GET", f"/secretsmanager/get?{query}", headers={"X-Aws-Parameters-Secrets-Token": TOKEN}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_stand_in_serves_each_stage_with_its_version_id(
    served: tuple[SecretsExtensionServer, LocalSecrets],
) -> None:
    server, local = served
    secret = local.get("key")
    assert secret is not None
    current, previous = secret.find(), secret.find(stage="AWSPREVIOUS")
    assert current is not None
    assert previous is not None

    status, body = get(server, "secretId=key")
    assert status == 200
    assert (body["SecretString"], body["VersionId"], body["VersionStages"]) == (
        "two",
        current.version_id,
        ["AWSCURRENT"],
    )
    assert get(server, "secretId=key&versionStage=AWSPREVIOUS")[1]["SecretString"] == "one"
    assert get(server, f"secretId=key&versionId={previous.version_id}")[1]["SecretString"] == "one"
    assert get(
        server, f"secretId=key&versionId={previous.version_id}&versionStage=AWSPREVIOUS"
    ) == (200, get(server, "secretId=key&versionStage=AWSPREVIOUS")[1])


@pytest.mark.parametrize(
    "query",
    [
        "secretId=key&versionStage=AWSPENDING",
        "secretId=key&versionId=00000000-0000-0000-0000-000000000000",
        "secretId=nope",
    ],
)
def test_stand_in_answers_400_for_what_does_not_exist(
    served: tuple[SecretsExtensionServer, LocalSecrets], query: str
) -> None:
    server, _ = served

    assert get(server, query)[0] == 400


def test_stand_in_answers_400_for_a_version_id_with_another_stage(
    served: tuple[SecretsExtensionServer, LocalSecrets],
) -> None:
    server, local = served
    secret = local.get("key")
    assert secret is not None
    current = secret.find()
    assert current is not None

    assert (
        get(server, f"secretId=key&versionId={current.version_id}&versionStage=AWSPREVIOUS")[0]
        == 400
    )
