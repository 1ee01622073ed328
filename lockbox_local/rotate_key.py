"""`python -m lockbox_local.rotate_key` (`make rotate-key`): rotate the local stack's signing
key the way Secrets Manager's rotation does in AWS.

For every secret the template gives a RotationSchedule, the rotation function's own code
(lockbox/signing/key_rotation.py) runs its four steps, createSecret, setSecret, testSecret
and finishSecret, against a Secrets Manager emulator (moto's server) holding the versions
kept in the data dir: a new version becomes AWSCURRENT, the one that was current AWSPREVIOUS,
and the one before loses its label. The labelled versions are then kept in the data dir's
secrets.json; a running stack (`make run`) puts them into its own emulator as soon as the
file changes, so its functions see the rotation at once (within the SigningKeyCacheSeconds
they cache keys for). An --in-memory stack keeps its key in memory and cannot be rotated
from outside.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lockbox_local.local_secrets import (
    CURRENT,
    PREVIOUS,
    SECRETS_FILE,
    LocalSecret,
    LocalSecrets,
    store_secret,
    stored_secret,
)
from lockbox_local.secrets_emulator import SecretsEmulator
from lockbox_local.template import PROJECT_ROOT, load_template, resources_of_type

DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"
_SCHEDULE_TYPE = "AWS::SecretsManager::RotationSchedule"


def rotated_secrets(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of the secrets the template schedules for rotation (whatever the
    condition on the schedule: locally a rotation is asked for by hand)."""
    found: list[str] = []
    for schedule in resources_of_type(dict(template), _SCHEDULE_TYPE).values():
        secret = (schedule.get("Properties", {}) or {}).get("SecretId")
        if isinstance(secret, Mapping) and isinstance(secret.get("Ref"), str):
            found.append(str(secret["Ref"]))
    return found


def rotate(name: str, secret: LocalSecret) -> LocalSecret:
    """One rotation of the secret by the rotation function's four steps, on an emulator."""
    # The rotation function's own code, from the layer (PYTHONPATH=layers/common, as
    # `make rotate-key` and the tests set it; /opt/python in Lambda).
    from lockbox.signing.key_rotation import STEPS, rotate_signing_key

    emulator = SecretsEmulator(LocalSecrets({name: secret})).start()
    try:
        # A RotationSchedule's rule; its number of days plays no part in a rotation by hand.
        emulator.enable_rotation(name, days=30)
        client = emulator.client()
        token = str(uuid.uuid4())  # the new version's id, as Secrets Manager picks one
        for step in STEPS:
            rotate_signing_key(
                {"Step": step, "SecretId": name, "ClientRequestToken": token}, client
            )
        return emulator.labelled_versions(name)
    finally:
        emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lockbox_local.rotate_key", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="the local stack's data dir, as given to `make run` (default .local/)",
    )
    data_dir: Path = parser.parse_args(argv).data_dir.resolve()
    names = rotated_secrets(load_template())
    if not names:
        print("template.yaml schedules no secret for rotation.", file=sys.stderr)
        return 2
    for name in names:
        kept = stored_secret(data_dir, name)
        if kept is None:
            print(
                f"No {name} in {data_dir / SECRETS_FILE} yet: start the local stack once with "
                "this data dir (make run), then rotate.",
                file=sys.stderr,
            )
            return 2
        from lockbox.signing.key_rotation import RotationError

        try:
            secret = rotate(name, kept)
        except RotationError as refusal:
            # As in AWS: the rotation function refuses, and the key stays as it was.
            print(f"Rotation of {name} refused: {refusal}", file=sys.stderr)
            return 1
        store_secret(data_dir, name, secret)
        stages = {stage: v.version_id for v in secret.versions for stage in v.stages}
        print(
            f"Rotated {name}: {CURRENT} is now version {stages[CURRENT]}, "
            f"{PREVIOUS} {stages.get(PREVIOUS, '(none)')}; older versions dropped."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
