"""`python -m lockbox_local.rotate_key` (`make rotate-key`): rotate the local stack's signing
key the way Secrets Manager's rotation does in AWS.

Every secret the template gives a RotationSchedule gets a new version, AWSCURRENT, made as
the rotation function makes it; the version that was current becomes AWSPREVIOUS and the
one before it is dropped. The versions live in the data dir's secrets.json; a running stack
(`make run`) reads the file again when it changes, so its functions see the rotation at once
(within the SigningKeyCacheSeconds they cache keys for). An --in-memory stack keeps its key
in memory and cannot be rotated from outside.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lockbox_local.local_secrets import CURRENT, PREVIOUS, SECRETS_FILE, rotate_stored
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
        try:
            secret = rotate_stored(data_dir, name)
        except KeyError:
            print(
                f"No {name} in {data_dir / SECRETS_FILE} yet: start the local stack once with "
                "this data dir (make run), then rotate.",
                file=sys.stderr,
            )
            return 2
        stages = {stage: v.version_id for v in secret.versions for stage in v.stages}
        print(
            f"Rotated {name}: {CURRENT} is now version {stages[CURRENT]}, "
            f"{PREVIOUS} {stages.get(PREVIOUS, '(none)')}; older versions dropped."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
