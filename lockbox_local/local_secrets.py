"""The template's Secrets Manager secrets, made locally.

A secret with GenerateSecretString gets a random value generated the way Secrets Manager
would (length and character rules from the template), once: it is kept in the data dir
(mode 0600), so tokens issued before a restart stay valid after it. In-memory runs keep
it in memory only.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lockbox_local.intrinsics import Resolver
from lockbox_local.template import resources_of_type

SECRETS_FILE = "secrets.json"
_SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)


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


def local_secret_values(
    template: Mapping[str, Any], resolver: Resolver, data_dir: Path | None
) -> dict[str, str]:
    """The value of every secret, under both its Ref (an ARN) and its logical id.

    Generated values are read from, or added to, data_dir/secrets.json.
    """
    stored = _read_stored(data_dir)
    values: dict[str, str] = {}
    changed = False
    for logical_id, resource in resources_of_type(dict(template), _SECRET_TYPE).items():
        properties = resolver.resolve(resource.get("Properties", {}))
        if "SecretString" in properties:
            value = str(properties["SecretString"])
        else:
            if logical_id not in stored:
                stored[logical_id] = generate_secret_string(
                    properties.get("GenerateSecretString", {})
                )
                changed = True
            value = stored[logical_id]
        values[resolver.ref(logical_id)] = value
        values[logical_id] = value
    if changed and data_dir is not None:
        _write_stored(data_dir, stored)
    return values


def _read_stored(data_dir: Path | None) -> dict[str, str]:
    if data_dir is None or not (data_dir / SECRETS_FILE).exists():
        return {}
    stored: dict[str, str] = json.loads((data_dir / SECRETS_FILE).read_text())
    return stored


def _write_stored(data_dir: Path, stored: Mapping[str, str]) -> None:
    """Written owner-only to a temporary file, then moved into place."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRETS_FILE}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(dict(stored), file, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, data_dir / SECRETS_FILE)
