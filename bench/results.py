"""bench/results.json: the one module that reads and writes it.

Each tool owns some keys (`make bench-core` the cold, warm, requests and bcrypt figures,
`make load` "load", `make fuzz` "fuzz", `make fault` "fault") and merges them into the
file, keeping everyone else's. A write goes to a temporary file beside it and is renamed
over it (os.replace), so a reader never sees half a file; a lock file serialises the
read-merge-write of tools that finish at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


def read_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    """Every figure recorded so far (empty before the first run)."""
    if not path.exists():
        return {}
    results: dict[str, Any] = json.loads(path.read_text())
    return results


def measured_at() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def update_results(figures: Mapping[str, Any], path: Path = RESULTS_PATH) -> None:
    """Set these top-level keys, keeping every other one."""
    with _locked(path):
        results = read_results(path)
        results.update(figures)
        _write_atomically(path, json.dumps(results, indent=2) + "\n")


def record_results(key: str, figures: Mapping[str, Any], path: Path = RESULTS_PATH) -> None:
    """Set one key (a tool's figures, stamped with the time they were measured)."""
    update_results({key: {**figures, "measured_at": measured_at()}}, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.parent / ".work" / f"{path.name}.lock"  # bench/.work is not committed
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # released when the file closes


def _write_atomically(path: Path, text: str) -> None:
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as partial_file:
            partial_file.write(text)
            partial_file.flush()
            os.fsync(partial_file.fileno())
        os.chmod(partial, 0o644)  # mkstemp's 0600 would stick to the renamed file
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
