"""The local stack's secrets: versions and staging labels, kept in the data dir, served by
the Secrets Manager emulator (moto's server), rotated by the rotation function's steps."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from lockbox.signing import key_rotation
from lockbox_local.intrinsics import Resolver, parameter_values
from lockbox_local.local_secrets import (
    SECRETS_FILE,
    LocalSecret,
    LocalSecrets,
    local_secret_values,
    new_signing_key,
    store_secret,
    stored_secret,
)
from lockbox_local.rotate_key import rotate, rotated_secrets
from lockbox_local.secrets_emulator import SecretsEmulator
from lockbox_local.template import load_template
from tests.support import age_kept_key


def rotate_kept(data_dir: Path, name: str = "JwtSigningKey") -> LocalSecret:
    """What `make rotate-key` does to the data dir's secret."""
    kept = stored_secret(data_dir, name)
    assert kept is not None
    rotated = rotate(name, kept)
    store_secret(data_dir, name, rotated)
    return rotated


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

    rotate_kept(tmp_path)

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

    rotate_kept(tmp_path)

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


def test_the_account_keys_are_generated_as_the_template_says_and_kept(tmp_path: Path) -> None:
    """Given a first start, AccountKeys is {"current": "1", "1": 64 characters}, the same
    on the next start (hashes made with its pepper keep verifying)."""
    first = template_secrets(tmp_path).get("AccountKeys")
    again = template_secrets(tmp_path).get("AccountKeys")

    assert first is not None
    assert again is not None
    document = json.loads(ident(first)[1])
    assert set(document) == {"current", "1"}
    assert document["current"] == "1"
    assert len(document["1"]) == 64
    assert document["1"].isalnum()
    assert ident(again) == ident(first)


def test_rotate_key_rotates_the_secrets_the_template_schedules() -> None:
    assert rotated_secrets(load_template()) == ["JwtSigningKey"]


def test_local_rotation_makes_keys_as_the_rotation_function_does() -> None:
    local, aws = new_signing_key(), key_rotation.new_signing_key()

    assert len(local) == len(aws) == 64
    assert set(local + aws) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


# --- the emulator -------------------------------------------------------------------------


def test_emulator_serves_each_kept_version_with_its_id_and_stage(tmp_path: Path) -> None:
    """Given a kept secret rotated once, moto's server answers its current and previous
    versions under their kept ids."""
    local = LocalSecrets.of_values({"key": "one"})
    local.rotate("key", "two")
    secret = local.get("key")
    assert secret is not None
    current, previous = secret.find(), secret.find(stage="AWSPREVIOUS")
    assert current is not None
    assert previous is not None
    emulator = SecretsEmulator(local).start()
    try:
        client = emulator.client()
        answer = client.get_secret_value(SecretId="key")
        assert (answer["SecretString"], answer["VersionId"]) == ("two", current.version_id)
        previous_answer = client.get_secret_value(SecretId="key", VersionStage="AWSPREVIOUS")
        assert (previous_answer["SecretString"], previous_answer["VersionId"]) == (
            "one",
            previous.version_id,
        )
    finally:
        emulator.stop()


def test_rotate_key_runs_the_rotation_functions_steps_on_the_kept_versions(
    tmp_path: Path,
) -> None:
    """Given a kept key, a rotation makes a new 64-character current key (the rotation
    function's), the old one previous under its own id, and twice drops the first."""
    before = template_secrets(tmp_path).get("JwtSigningKey")
    first_id, first_value = ident(before)

    once = rotate_kept(tmp_path)
    age_kept_key(tmp_path, 4 * 3600)  # the next rotation is due
    twice = rotate_kept(tmp_path)

    assert ident(once, "AWSPREVIOUS") == (first_id, first_value)
    current_id, current_value = ident(once)
    assert len(current_value) == 64
    assert current_value != first_value
    assert stages(twice) == {ident(twice)[0]: ("AWSCURRENT",), current_id: ("AWSPREVIOUS",)}


def test_a_running_emulator_takes_rotations_of_the_file(tmp_path: Path) -> None:
    """Given a running emulator on a data dir, two rotations of the kept file (as
    `make rotate-key` leaves it) reach it with the file's version ids and labels."""
    emulator = SecretsEmulator(template_secrets(tmp_path)).start()
    try:
        kept = stored_secret(tmp_path, "JwtSigningKey")
        assert kept is not None
        rotated = kept.rotated(new_signing_key()).rotated(new_signing_key())
        store_secret(tmp_path, "JwtSigningKey", rotated)
        client = emulator.client()
        deadline = time.monotonic() + 10
        while client.get_secret_value(SecretId="JwtSigningKey")["VersionId"] != ident(rotated)[0]:
            assert time.monotonic() < deadline, "the rotation did not reach the emulator"
            time.sleep(0.05)

        previous = client.get_secret_value(SecretId="JwtSigningKey", VersionStage="AWSPREVIOUS")
        assert (previous["VersionId"], previous["SecretString"]) == ident(rotated, "AWSPREVIOUS")
    finally:
        emulator.stop()
