"""What the fuzz, load and fault tools share: a local stack on free ports, the few HTTP
calls they all make (register an account, log in), and merging figures into results.json.

The stack is lockbox_local's own LocalStack, run in this process: the fault tool needs its
DynamoDBLocal object to stop and restart DynamoDB Local mid-run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import requests

from lockbox_local.stack import LocalStack, StackOptions
from lockbox_local.template import PROJECT_ROOT

# Registrations are part of every workload: at cost 12 a hash takes ~250 ms of a core,
# which would make bcrypt, not the API, the thing measured.
BCRYPT_COST = 4
DEFAULT_WORKERS_PER_FUNCTION = 4
REQUEST_TIMEOUT_SECONDS = 30.0
LOCALHOST = "127.0.0.1"  # every tool here sends its traffic to this address only
PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 (local throwaway accounts)


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all probes held open at once, so no repeats)."""
    with contextlib.ExitStack() as probes:
        ports: list[int] = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((LOCALHOST, 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


def stack_options(
    *,
    data_dir: Path | None = None,
    bcrypt_cost: int = BCRYPT_COST,
    workers_per_function: int = DEFAULT_WORKERS_PER_FUNCTION,
) -> StackOptions:
    """Free ports; DynamoDB Local in memory unless a data dir is given."""
    api_port, dynamodb_port = free_ports(2)
    options = StackOptions(
        host=LOCALHOST,
        port=api_port,
        dynamodb_port=dynamodb_port,
        in_memory=data_dir is None,  # in memory, StackOptions.data_dir is never touched
        workers_per_function=workers_per_function,
        parameter_overrides={"BcryptCost": str(bcrypt_cost)},
    )
    return options if data_dir is None else dataclasses.replace(options, data_dir=data_dir)


@contextlib.contextmanager
def running_stack(
    options: StackOptions | None = None, log_path: Path | None = None
) -> Iterator[LocalStack]:
    """A started LocalStack, stopped on exit however the block ends.

    With log_path, the function workers' output (a JSON log line per request) goes there.
    """
    stack = LocalStack(options or stack_options())
    # The gateway logs every request at INFO: thousands of lines would bury the results.
    logging.getLogger("lockbox_local.gateway").setLevel(logging.WARNING)
    with contextlib.ExitStack() as cleanup:
        if log_path is not None:
            cleanup.enter_context(children_output_to(log_path))
        stack.start()
        cleanup.callback(stack.stop)
        yield stack


def console() -> TextIO | None:
    """This process's stdout, for a child to write to, when it is a real file (under pytest
    it may be an in-memory one; then None: the child inherits file descriptor 1)."""
    try:
        sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return sys.stdout


@contextlib.contextmanager
def children_output_to(log_path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at log_path, so the workers this process starts
    inherit it, while this process's own sys.stdout and sys.stderr still reach the terminal.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    original_streams = sys.stdout, sys.stderr
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    sys.stdout = open(saved[0], "w", buffering=1, closefd=False)  # noqa: SIM115 (closed below)
    sys.stderr = open(saved[1], "w", buffering=1, closefd=False)  # noqa: SIM115
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.close()
        sys.stdout, sys.stderr = original_streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def table_names(stack: LocalStack) -> tuple[str, str]:
    """The users and items table names the functions use (from the template)."""
    assert stack.app is not None
    environment = stack.app.functions["RegisterFunction"].environment
    items = stack.app.functions["StoreItemFunction"].environment
    return environment["USERS_TABLE"], items["ITEMS_TABLE"]


# --- accounts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    email: str
    user_id: str
    token: str


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc for 127.0.0.1
    return session


def registration_body(prefix: str) -> dict[str, Any]:
    """A valid /api/register body with a unique username and email."""
    unique = uuid.uuid4().hex[:16]
    return {
        "username": f"{prefix}_{unique}",
        "email": f"{prefix}_{unique}@example.com",
        "password": PASSWORD,
        "full_name": "Bench User",
        "age": 30,
        "gender": "non-binary",
    }


def login(session: requests.Session, base_url: str, username: str) -> str:
    answer = session.post(
        f"{base_url}/api/token",
        json={"username": username, "password": PASSWORD},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"login failed: {answer.status_code} {answer.text}")
    token: str = answer.json()["data"]["access_token"]
    return token


def register_account(session: requests.Session, base_url: str, prefix: str) -> Account:
    """Register a fresh account and log in with it."""
    body = registration_body(prefix)
    answer = session.post(f"{base_url}/api/register", json=body, timeout=REQUEST_TIMEOUT_SECONDS)
    if answer.status_code != 200:
        raise RuntimeError(f"registration failed: {answer.status_code} {answer.text}")
    return Account(
        username=body["username"],
        email=body["email"],
        user_id=answer.json()["data"]["user_id"],
        token=login(session, base_url, body["username"]),
    )


# --- results -------------------------------------------------------------------------

RESULTS_PATH = PROJECT_ROOT / "bench" / "results.json"


def record_results(key: str, figures: dict[str, Any]) -> None:
    """Set one key of bench/results.json, keeping every other key (make bench writes some)."""
    results: dict[str, Any] = {}
    if RESULTS_PATH.exists():
        results = json.loads(RESULTS_PATH.read_text())
    results[key] = {**figures, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    # Written beside and renamed: a reader never sees half a file.
    partial = RESULTS_PATH.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(results, indent=2) + "\n")
    partial.replace(RESULTS_PATH)
