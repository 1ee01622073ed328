"""What the fuzz, load and fault tools share: a local stack on free ports (lockbox_local's
own LocalStack, run in this process: the fault tool reaches DynamoDB Local through its
services to stop, restart and freeze it) and the few HTTP calls they all make (register
an account, log in).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from lockbox_local.ports import LOCALHOST, free_ports
from lockbox_local.stack import LocalStack, StackOptions

# Registrations are part of every workload: at cost 12 a hash takes ~250 ms of a core,
# which would make bcrypt, not the API, the thing measured.
BCRYPT_COST = 4
DEFAULT_WORKERS_PER_FUNCTION = 4
REQUEST_TIMEOUT_SECONDS = 30.0
PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 (local throwaway accounts)


def stack_options(
    *,
    data_dir: Path | None = None,
    bcrypt_cost: int = BCRYPT_COST,
    workers_per_function: int = DEFAULT_WORKERS_PER_FUNCTION,
    function_log: Path | None = None,
) -> StackOptions:
    """Free ports on 127.0.0.1 (every tool here sends its traffic there only); DynamoDB
    Local in memory unless a data dir is given; the functions' log lines to function_log."""
    api_port, dynamodb_port = free_ports(2)
    options = StackOptions(
        host=LOCALHOST,
        port=api_port,
        dynamodb_port=dynamodb_port,
        in_memory=data_dir is None,  # in memory, StackOptions.data_dir is never touched
        workers_per_function=workers_per_function,
        parameter_overrides={"BcryptCost": str(bcrypt_cost)},
        function_log=function_log,
    )
    return options if data_dir is None else dataclasses.replace(options, data_dir=data_dir)


@contextlib.contextmanager
def running_stack(options: StackOptions | None = None) -> Iterator[LocalStack]:
    """A started LocalStack, stopped on exit however the block ends."""
    stack = LocalStack(options or stack_options())
    # The gateway logs every request at INFO: thousands of lines would bury the results.
    logging.getLogger("lockbox_local.gateway").setLevel(logging.WARNING)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


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
