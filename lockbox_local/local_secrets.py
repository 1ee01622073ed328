"""The template's Secrets Manager secrets, made locally, with versions and staging labels.

A secret with GenerateSecretString gets a random value generated the way Secrets Manager
would (length and character rules from the template), once: it is kept in the data dir
(mode 0600), so tokens issued before a restart stay valid after it. In-memory runs keep
it in memory only.

Each secret has versions labelled as Secrets Manager labels them: AWSCURRENT, and after a
rotation AWSPREVIOUS. `rotate_secret` does what a rotation does when it finishes: a new
version becomes AWSCURRENT, the one it replaces AWSPREVIOUS, and a version left without a
label is dropped (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
`python -m lockbox_local.rotate_key` (`make rotate-key`) rotates the data dir's secrets with
the rotation function's steps; a running stack's emulator (lockbox_local/secrets_emulator.py)
takes each change of secrets.json as it lands, so the rotation reaches its functions without
a restart.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lockbox_local.intrinsics import Resolver
from lockbox_local.template import resources_of_type

SECRETS_FILE = "secrets.json"
CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
_SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
# The version id of a value stored before versions were kept: derived from the value, so
# every reader of such a file agrees on it until the file is written again.
_LEGACY_VERSIONS = uuid.UUID("7b0c4f1e-2f35-4e0b-9d53-5a1f0c6de2a4")


@dataclass(frozen=True, slots=True)
class SecretVersion:
    version_id: str
    value: str
    stages: tuple[str, ...]
    created: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class LocalSecret:
    versions: tuple[SecretVersion, ...]

    @classmethod
    def new(cls, value: str) -> LocalSecret:
        return cls((SecretVersion(str(uuid.uuid4()), value, (CURRENT,), time.time()),))

    def find(self, version_id: str | None = None, stage: str | None = None) -> SecretVersion | None:
        """The version with this id and/or stage (AWSCURRENT when neither is given)."""
        if version_id is None and stage is None:
            stage = CURRENT
        for version in self.versions:
            if version_id is not None and version.version_id != version_id:
                continue
            if stage is not None and stage not in version.stages:
                continue
            return version
        return None

    def rotated(self, value: str) -> LocalSecret:
        """A new AWSCURRENT version; the current one becomes AWSPREVIOUS; older ones go."""
        moved: list[SecretVersion] = []
        for version in self.versions:
            stages = tuple(s for s in version.stages if s not in (CURRENT, PREVIOUS))
            if CURRENT in version.stages:
                stages = (*stages, PREVIOUS)
            if stages:
                moved.append(replace(version, stages=stages))
        fresh = SecretVersion(str(uuid.uuid4()), value, (CURRENT,), time.time())
        return LocalSecret((fresh, *moved))

    def to_json(self) -> dict[str, Any]:
        return {
            "versions": [
                {
                    "VersionId": v.version_id,
                    "SecretString": v.value,
                    "VersionStages": list(v.stages),
                    "CreatedDate": v.created,
                }
                for v in self.versions
            ]
        }

    @classmethod
    def from_json(cls, stored: Any) -> LocalSecret:
        if isinstance(stored, str):  # a file written before versions were kept
            version_id = str(uuid.uuid5(_LEGACY_VERSIONS, stored))
            return cls((SecretVersion(version_id, stored, (CURRENT,), 0.0),))
        return cls(
            tuple(
                SecretVersion(
                    version_id=str(v["VersionId"]),
                    value=str(v["SecretString"]),
                    stages=tuple(str(s) for s in v["VersionStages"]),
                    created=float(v.get("CreatedDate", 0.0)),
                )
                for v in stored["versions"]
            )
        )


def generate_secret_string(spec: Mapping[str, Any]) -> str:
    """A value following a GenerateSecretString specification."""
    alphabet = ""
    if not spec.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not spec.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not spec.get("ExcludeNumbers"):
        alphabet += string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += string.punctuation
    if spec.get("IncludeSpace"):
        alphabet += " "
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        document = json.loads(str(spec["SecretStringTemplate"]))
        document[str(spec["GenerateStringKey"])] = value
        return json.dumps(document)
    return value


def new_signing_key() -> str:
    """The value a rotation gives the signing key: what the rotation function generates
    (lockbox/signing/key_rotation.py), 48 random bytes as URL-safe base64 (64 characters)."""
    return secrets.token_urlsafe(48)


class LocalSecrets:
    """The secrets the local Secrets Manager serves, by Ref (an ARN) or logical id.

    Generated secrets live in data_dir/secrets.json when there is a data dir; `get` reads
    the file again when it has changed since (a rotation by `make rotate-key`).
    """

    def __init__(
        self,
        secrets_by_id: Mapping[str, LocalSecret],
        aliases: Mapping[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self._secrets = dict(secrets_by_id)
        self._aliases = dict(aliases or {})  # Ref -> logical id
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._file_state = _file_state(data_dir)

    @classmethod
    def of_values(cls, values: Mapping[str, str]) -> LocalSecrets:
        """Fixed secrets with one version each (tests, and callers with plain values)."""
        return cls({name: LocalSecret.from_json(value) for name, value in values.items()})

    def aliases(self) -> dict[str, str]:
        """Each secret's Ref -> its logical id (its name in the emulator); a secret given
        without a Ref is named by itself."""
        return {**{name: name for name in self._secrets}, **self._aliases}

    def get(self, secret_id: str) -> LocalSecret | None:
        name = self._aliases.get(secret_id, secret_id)
        with self._lock:
            self._reload_if_changed()
            return self._secrets.get(name)

    def rotate(self, secret_id: str, value: str | None = None) -> LocalSecret:
        """Rotate one secret in memory (the data dir's file is rotated by rotate_key)."""
        name = self._aliases.get(secret_id, secret_id)
        with self._lock:
            rotated = self._secrets[name].rotated(value or new_signing_key())
            self._secrets[name] = rotated
            return rotated

    def _reload_if_changed(self) -> None:
        state = _file_state(self._data_dir)
        if state == self._file_state or self._data_dir is None:
            return
        self._file_state = state
        for name, stored in _read_stored(self._data_dir).items():
            if name in self._secrets:
                self._secrets[name] = LocalSecret.from_json(stored)


def local_secret_values(
    template: Mapping[str, Any], resolver: Resolver, data_dir: Path | None
) -> LocalSecrets:
    """Every secret of the template, under both its Ref (an ARN) and its logical id.

    Generated values are read from, or added to, data_dir/secrets.json.
    """
    stored = _read_stored(data_dir)
    found: dict[str, LocalSecret] = {}
    aliases: dict[str, str] = {}
    changed = False
    for logical_id, resource in resources_of_type(dict(template), _SECRET_TYPE).items():
        properties = resolver.resolve(resource.get("Properties", {}))
        if "SecretString" in properties:
            secret = LocalSecret.from_json(str(properties["SecretString"]))
        else:
            if not isinstance(stored.get(logical_id), dict):
                value = stored.get(logical_id) or generate_secret_string(
                    properties.get("GenerateSecretString", {})
                )
                stored[logical_id] = LocalSecret.from_json(value).to_json()
                changed = True
            secret = LocalSecret.from_json(stored[logical_id])
        found[logical_id] = secret
        aliases[resolver.ref(logical_id)] = logical_id
    if changed and data_dir is not None:
        _write_stored(data_dir, stored)
    return LocalSecrets(found, aliases, data_dir)


def stored_secret(data_dir: Path, logical_id: str) -> LocalSecret | None:
    """The secret kept in data_dir/secrets.json; None if the stack never made it there."""
    stored = _read_stored(data_dir).get(logical_id)
    return None if stored is None else LocalSecret.from_json(stored)


def store_secret(data_dir: Path, logical_id: str, secret: LocalSecret) -> None:
    """Keep the secret's versions in data_dir/secrets.json; a running stack picks them up."""
    stored = _read_stored(data_dir)
    stored[logical_id] = secret.to_json()
    _write_stored(data_dir, stored)


def _file_state(data_dir: Path | None) -> tuple[int, int] | None:
    """What tells a rewritten secrets.json apart (it is replaced: a new inode each time)."""
    if data_dir is None:
        return None
    try:
        status = os.stat(data_dir / SECRETS_FILE)
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def _read_stored(data_dir: Path | None) -> dict[str, Any]:
    if data_dir is None or not (data_dir / SECRETS_FILE).exists():
        return {}
    stored: dict[str, Any] = json.loads((data_dir / SECRETS_FILE).read_text())
    return stored


def _write_stored(data_dir: Path, stored: Mapping[str, Any]) -> None:
    """Written owner-only to a temporary file, then moved into place."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRETS_FILE}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(dict(stored), file, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, data_dir / SECRETS_FILE)
