"""What a function's cold start imports: the modules each call does not need stay out of
it (docs/performance.md), checked in a fresh process per function."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lockbox_local.template import PROJECT_ROOT

FUNCTIONS_DIR = PROJECT_ROOT / "functions"

PROGRAM = """
import json, sys
import app
print(json.dumps(sorted(sys.modules)))
"""


def answer_of(function: str, program: str) -> object:
    """The JSON a program prints last, run in a fresh process on the function's path."""
    code_dir = FUNCTIONS_DIR / function
    env = {
        "PYTHONPATH": ":".join([str(code_dir), *sys.path]),
        "POWERTOOLS_SERVICE_NAME": "lockbox-api",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    answer = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
        [sys.executable, "-c", program],
        env=env,
        cwd=code_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def loaded_by(function: str) -> set[str]:
    """The modules loaded once the function's app module is imported."""
    modules = answer_of(function, PROGRAM)
    assert isinstance(modules, list)
    return set(modules)


@pytest.mark.parametrize(
    "function",
    ["get_item", "store_item", "list_items", "update_item", "delete_item", "batch_get"],
)
def test_a_data_call_loads_none_of_the_account_machinery(function: str) -> None:
    """The export's account (its first page) is imported when it is read, not with every
    data call: no account records, sessions, second factor or token signing."""
    loaded = loaded_by(function)

    assert "lockbox.accounts.account_records" not in loaded
    assert "lockbox.sessions.session_records" not in loaded
    assert "lockbox.signing.tokens" not in loaded


@pytest.mark.parametrize(
    "function",
    ["verify_email", "send_verification", "forgot_password", "reset_password", "change_email"],
)
def test_the_email_calls_check_addresses_without_pydantic(function: str) -> None:
    loaded = loaded_by(function)

    assert "pydantic" not in loaded
    assert "pydantic_core" not in loaded


@pytest.mark.parametrize("function", ["register", "users_register"])
def test_the_registrations_validate_with_pydantic_core_alone(function: str) -> None:
    """pydantic's validation core checks their bodies; its model layer (about 90 ms of a
    cold start, imports and schema generation) stays out."""
    loaded = loaded_by(function)

    assert "pydantic_core" in loaded
    assert "pydantic" not in loaded


def test_nothing_loads_the_xray_sdk_unless_aws_calls_are_traced() -> None:
    assert "aws_xray_sdk" not in loaded_by("get_item")


@pytest.mark.parametrize("function", ["get_account", "users_profile", "update_account"])
def test_a_profile_call_loads_neither_the_password_checks_nor_the_token_signing(
    function: str,
) -> None:
    """The profile calls check no password and sign no token: none of the login, step-up
    or token modules."""
    loaded = loaded_by(function)

    assert "lockbox.mfa.step_up" not in loaded
    assert "lockbox.sessions.login_calls" not in loaded
    assert "lockbox.signing.tokens" not in loaded


@pytest.mark.parametrize("function", ["logout", "users_logout", "list_sessions", "delete_session"])
def test_a_session_call_that_signs_nothing_loads_no_token_signing(function: str) -> None:
    assert "lockbox.signing.tokens" not in loaded_by(function)


@pytest.mark.parametrize("function", sorted(path.name for path in FUNCTIONS_DIR.iterdir()))
def test_no_function_loads_pyjwt_or_the_x509_modules(function: str) -> None:
    """Tokens are signed and checked with the standard library's HMAC: PyJWT, which
    imports the cryptography package's X.509 modules (about 40 ms), is a test tool only."""
    loaded = loaded_by(function)

    assert "jwt" not in loaded
    assert "cryptography.x509" not in loaded


DATACLASSES_PROGRAM = """
import dataclasses, json, sys
import app
found = sorted(
    f"{name}.{value.__name__}"
    for name, module in list(sys.modules.items())
    if name.split(".")[0] in ("lockbox", "app")
    for value in vars(module).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value)
    and value.__module__ == name
)
print(json.dumps(found))
"""


@pytest.mark.parametrize(
    "function", ["token_mfa", "users_register", "store_item", "authorizer", "export_items"]
)
def test_a_cold_start_builds_no_dataclass_of_the_layer(function: str) -> None:
    """A dataclass compiles its generated methods at every import (about 0.6 ms each here):
    the layer's records are NamedTuples (docs/performance.md)."""
    assert answer_of(function, DATACLASSES_PROGRAM) == []
