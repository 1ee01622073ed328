"""`make invoke FUNCTION=... EVENT=...`: one function run on an events/ file against the
local stack's services, without Docker (lockbox_local/invoke.py), run here as a developer
runs it: `make` in a subprocess, each run on a DynamoDB port of its own, its stdout read
as the function's answer.

Without a DynamoDB Local on that port it starts one on the data dir (as `make run` does)
and stops it afterwards; with one answering there (a running `make run`) it uses that one
and the data dir's signing key, so tokens and data pass between the two. Local only: a
deployed stack (API_URL) has nothing to do with it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from lockbox_local.ports import free_port, port_answers
from tests.e2e.helpers import ERRORS, auth_headers, login
from tests.local_stack import PROJECT_ROOT, LocalStackProcess

INVOKE_TIMEOUT_SECONDS = 180.0  # a cold machine: the JVM, table creation, a worker's imports
# The account of events/register_success.json and token_success.json.
EVENTS_USERNAME, EVENTS_PASSWORD = "johndoe", "secure_password123"

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="make invoke runs a function locally; API_URL is a deployed stack",
    ),
]


def make_invoke(
    function: str,
    event: str,
    *,
    dynamodb_port: int,
    args: str = "",
    variables: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`make invoke` as typed in a shell at the project's root (outside any other make:
    no "Entering directory" lines in its stdout)."""
    make = shutil.which("make")
    assert make is not None, "make is not on PATH"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "ACCESS_TOKEN", "REFRESH_TOKEN"}
    }
    environment.update(variables or {})
    return subprocess.run(  # noqa: S603 (make from PATH, the project's own target)
        [
            make,
            "--no-print-directory",
            "invoke",
            f"FUNCTION={function}",
            f"EVENT={event}",
            f"DYNAMODB_PORT={dynamodb_port}",
            f"ARGS={args}",
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INVOKE_TIMEOUT_SECONDS,
        check=False,
    )


def answer(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON the run printed: its whole stdout (the function's logs are on stderr)."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"stdout is not JSON alone:\n{result.stdout[:2000]}", pytrace=False)


def envelope(response: dict[str, Any]) -> dict[str, Any]:
    """The body of a Lambda proxy response, as JSON."""
    body: dict[str, Any] = json.loads(response["body"])
    return body


def data_dir_is_free(data_dir: Path) -> bool:
    """Nobody holds the data dir's lock (the one `make run` takes)."""
    with (data_dir / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


def test_logical_id_prints_a_proxy_response_and_stops_what_it_started(tmp_path: Path) -> None:
    """Given no DynamoDB Local on the port, when `make invoke FUNCTION=GetItemFunction
    EVENT=events/get_item_success.json`, then a Lambda proxy response is printed (404
    KEY_NOT_FOUND on an empty database), and the DynamoDB Local it started is gone."""
    port = free_port()
    data_dir = tmp_path / "data"

    result = make_invoke(
        "GetItemFunction",
        "events/get_item_success.json",
        dynamodb_port=port,
        args=f"--data-dir {data_dir}",
    )

    response = answer(result)
    status, message = ERRORS["KEY_NOT_FOUND"]
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    assert envelope(response) == {"status": "error", "code": "KEY_NOT_FOUND", "message": message}
    assert f"Started DynamoDB Local on port {port}" in result.stderr
    assert '"function_name":"GetItemFunction"' in result.stderr, "its log lines go to stderr"
    assert not port_answers(port), "the DynamoDB Local it started still answers"
    assert data_dir_is_free(data_dir)
    assert (data_dir / "secrets.json").exists(), "the signing key is kept as make run keeps it"


def test_folder_names_run_the_same_functions_on_the_same_data(tmp_path: Path) -> None:
    """Given a data dir, when `store_item` and then `get_item` are invoked by their folder
    names, each run starting and stopping DynamoDB Local on it, then the second reads what
    the first stored."""
    port = free_port()
    data_dir_args = f"--data-dir {tmp_path / 'data'}"

    stored = answer(
        make_invoke(
            "store_item", "events/store_item_success.json", dynamodb_port=port, args=data_dir_args
        )
    )
    read = answer(
        make_invoke(
            "functions/get_item/",
            "events/get_item_success.json",
            dynamodb_port=port,
            args=data_dir_args,
        )
    )

    assert stored["statusCode"] == 200, stored
    assert envelope(stored)["message"] == "Data stored successfully."
    assert read["statusCode"] == 200, read
    assert envelope(read)["data"] == {
        "key": "notes",
        "value": {"text": "buy milk", "tags": ["home", "errands"], "done": False},
        "metadata": None,
    }
    assert not port_answers(port)


def test_a_running_stack_lends_its_dynamodb_and_signing_key(tmp_path: Path) -> None:
    """Given a local stack on a data dir (what `make run` is), when `make invoke` is given
    its DynamoDB port and data dir, then the stack's DynamoDB Local is used and left
    running: an account registered by invoke logs in through the stack, and the stack's
    token passes the authorizer run by invoke (from {{ACCESS_TOKEN}})."""
    stack = LocalStackProcess(tmp_path, in_memory=False, extra_args=("--parameter", "BcryptCost=4"))
    stack.wait_until_serving()
    try:
        shared = f"--data-dir {stack.data_dir} --parameter BcryptCost=4"
        registered = answer(
            make_invoke(
                "register",
                "events/register_success.json",
                dynamodb_port=stack.dynamodb_port,
                args=shared,
            )
        )
        user_id = envelope(registered)["data"]["user_id"]
        with requests.Session() as http:
            token = login(http, stack.url, EVENTS_USERNAME, EVENTS_PASSWORD)

            result = make_invoke(
                "AuthorizerFunction",
                "events/authorizer_valid.json",
                dynamodb_port=stack.dynamodb_port,
                args=shared,
                variables={"ACCESS_TOKEN": token},
            )

            policy = answer(result)
            assert f"Using the DynamoDB Local that answers on port {stack.dynamodb_port}" in (
                result.stderr
            )
            assert policy["principalId"] == user_id
            assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
            assert policy["context"]["user_id"] == user_id
            account = http.get(f"{stack.url}/api/account", headers=auth_headers(token), timeout=60)
            assert account.status_code == 200, "the stack lost its DynamoDB Local"
            assert account.json()["data"]["user_id"] == user_id
    finally:
        stack.stop()


def test_an_authorizer_refusal_is_printed_as_its_deny_policy(tmp_path: Path) -> None:
    """Given a token that is no JWT, then the authorizer's explicit Deny over the stage is
    printed (what API Gateway turns into 401), with no user in it, and the run exits 0."""
    result = make_invoke(
        "authorizer",
        "events/authorizer_valid.json",
        dynamodb_port=free_port(),
        args="--in-memory",
        variables={"ACCESS_TOKEN": "not-a-jwt"},
    )

    policy = answer(result)
    assert result.returncode == 0
    assert policy["principalId"] == "anonymous"
    assert [statement["Effect"] for statement in policy["policyDocument"]["Statement"]] == ["Deny"]
    assert policy["policyDocument"]["Statement"][0]["Resource"].endswith("/*")
    assert "context" not in policy


def test_an_unknown_function_lists_the_valid_names() -> None:
    result = make_invoke(
        "NoSuchFunction", "events/get_item_success.json", dynamodb_port=free_port()
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert "No function 'NoSuchFunction' in template.yaml" in result.stderr
    listed = {tuple(line.split()) for line in result.stderr.splitlines() if line.startswith("  ")}
    assert ("GetItemFunction", "get_item") in listed
    assert ("AuthorizerFunction", "authorizer") in listed
    assert "Started DynamoDB Local" not in result.stderr


def test_a_missing_event_file_says_so() -> None:
    result = make_invoke("GetItemFunction", "events/no_such_event.json", dynamodb_port=free_port())

    assert result.returncode != 0
    assert result.stdout == ""
    assert "No event file events/no_such_event.json: there is no such file" in result.stderr


def test_a_placeholder_without_its_variable_names_the_variable() -> None:
    result = make_invoke(
        "AuthorizerFunction", "events/authorizer_valid.json", dynamodb_port=free_port()
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert "{{ACCESS_TOKEN}}: ACCESS_TOKEN" in result.stderr
    assert "make invoke FUNCTION=TokenFunction EVENT=events/token_success.json" in result.stderr
