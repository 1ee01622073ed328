"""`make rotate-key` on a local stack's data dir, and the passing of time between rotations.

The rotation function refuses a rotation less than three hours after the previous one
(lockbox/signing/key_rotation.py); a test that rotates twice first says that the previous
rotation happened long enough ago (tests.support.age_kept_key)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lockbox_local.template import PROJECT_ROOT

LAYER_PATH = os.pathsep.join((str(PROJECT_ROOT / "layers" / "common"), str(PROJECT_ROOT)))


def run_rotate_key(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`make rotate-key ARGS="--data-dir DIR"`, as the Makefile runs it."""
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "lockbox_local.rotate_key", "--data-dir", str(data_dir)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": LAYER_PATH},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rotate_key(data_dir: Path) -> str:
    """A rotation that must succeed; its printed summary."""
    result = run_rotate_key(data_dir)
    assert result.returncode == 0, result.stderr
    return result.stdout
