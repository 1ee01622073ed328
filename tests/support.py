"""What the unit and handler suites share: the functions' environment, moto's Secrets
Manager holding the signing key, moto tables built from template.yaml, events/ files and a
Lambda context. Each suite's conftest.py applies the environment and re-exports the fixtures."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lockbox_local.worker import LambdaContext

JWT_SECRET_ID = "lockbox/test/jwt-signing-key"
JWT_ISSUER = "lockbox-api/test"
JWT_SIGNING_KEY = secrets.token_urlsafe(48)
JWT_KEY_ID = str(uuid.uuid4())  # its version id: the kid of the tokens it signs

# The environment template.yaml gives the functions (bcrypt at test cost).
FUNCTION_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "lockbox-api",
    "POWERTOOLS_METRICS_NAMESPACE": "LockboxApi",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "USERS_TABLE": "UsersTable",
    "ITEMS_TABLE": "ItemsTable",
    "JWT_SECRET_ID": JWT_SECRET_ID,
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": "lockbox-api-clients",
    "BCRYPT_COST": "4",
    "MAX_VALUE_BYTES": "65536",
    "PASSWORD_POLICY": "nist",
    "ALLOWED_ORIGIN": "*",
}
# Never a developer's real AWS account or endpoint.
_UNWANTED = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
)


def apply_function_environment() -> None:
    """Give this process the functions' environment. Called from a suite's pytest_configure,
    before any test module imports a handler: Powertools reads it when a module is imported."""
    os.environ.update(FUNCTION_ENVIRONMENT)
    for name in _UNWANTED:
        os.environ.pop(name, None)


def _on_each_dynamodb_request(hook: Callable[..., None]) -> None:
    """Run `hook(model=...)` before every request of the functions' DynamoDB client.

    The hook sits on the one client every data module reaches DynamoDB through
    (lockbox.core.dynamodb), so no request can pass it. The client is made afresh for
    each test (function_environment), and the hook goes with it.
    """
    from lockbox.core import dynamodb

    dynamodb.client().meta.events.register("before-call.dynamodb", hook)


def count_dynamodb_requests() -> Counter[str]:
    """DynamoDB requests made from now on through the functions' client, by operation."""
    made: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        made[model.name] += 1

    _on_each_dynamodb_request(count)
    return made


def forbid_dynamodb_requests() -> None:
    """From now on, any request to DynamoDB fails the call that makes it."""

    def forbidden(model: Any, **_: Any) -> None:
        raise AssertionError(
            f"this request must be refused before it reaches DynamoDB ({model.name})"
        )

    _on_each_dynamodb_request(forbidden)


def secrets_manager_unreachable() -> Callable[[], None]:
    """From now on every request of the functions' Secrets Manager client fails to connect
    (after botocore's retries); the returned function ends that."""
    from botocore.exceptions import EndpointConnectionError

    from lockbox.signing import signing_keys
    from lockbox_local.ports import free_port

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"http://127.0.0.1:{free_port()}")

    events = signing_keys.secretsmanager_client().meta.events
    events.register("before-send.secrets-manager", refuse)
    return lambda: events.unregister("before-send.secrets-manager", refuse)


# --- fixtures (re-exported by the suites' conftest.py) ----------------------------------


def create_signing_key(client: Any, name: str = JWT_SECRET_ID, value: str = JWT_SIGNING_KEY) -> str:
    """The signing-key secret in moto, its first version named JWT_KEY_ID (the kid)."""
    client.create_secret(Name=name, SecretString=value, ClientRequestToken=JWT_KEY_ID)
    return name


@pytest.fixture(autouse=True)
def function_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from the template's environment, moto (holding the signing key in
    its Secrets Manager) and fresh per-container caches."""
    import boto3
    from moto import mock_aws

    from lockbox.core import dynamodb, settings
    from lockbox.signing import signing_keys

    for name, value in FUNCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    caches = (settings.get_settings.cache_clear, dynamodb.client.cache_clear)
    for clear in (*caches, signing_keys.forget_cached_key):
        clear()
    with mock_aws():
        create_signing_key(boto3.client("secretsmanager", region_name="us-east-1"))
        yield
    for clear in (*caches, signing_keys.forget_cached_key):
        clear()


@pytest.fixture
def aws_tables() -> Iterator[Any]:
    """moto DynamoDB with the template's tables; yields a client to inspect them (inside
    function_environment's moto: a nested mock_aws keeps its state)."""
    import boto3
    from moto import mock_aws

    from lockbox_local.template import create_tables

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client)
        yield client


@pytest.fixture
def lambda_context() -> LambdaContext:
    """The repo's one Lambda context (lockbox_local's), as Lambda would pass it."""
    return LambdaContext.for_function("test-function")


@pytest.fixture
def jwt_signing_key() -> str:
    """The key moto's Secrets Manager serves, for minting tokens in tests."""
    return JWT_SIGNING_KEY


def age_kept_key(data_dir: Path, seconds: float) -> None:
    """Given the kept versions were made `seconds` earlier than they were (time passing)."""
    path = data_dir / "secrets.json"
    kept = json.loads(path.read_text())
    for secret in kept.values():
        for version in secret["versions"]:
            version["CreatedDate"] = float(version["CreatedDate"]) - seconds
    path.write_text(json.dumps(kept))
