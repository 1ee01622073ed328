"""What the unit and handler suites share: the functions' environment, moto's Secrets
Manager holding the signing key, moto tables built from template.yaml, events/ files and a
Lambda context. Each suite's conftest.py applies the environment and re-exports the fixtures."""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lockbox_local.worker import LambdaContext

JWT_SECRET_ID = "lockbox/test/jwt-signing-key"
JWT_ISSUER = "lockbox-api/test"
JWT_SIGNING_KEY = secrets.token_urlsafe(48)
JWT_KEY_ID = str(uuid.uuid4())  # its version id: the kid of the tokens it signs
ACCOUNT_KEYS_SECRET_ID = "lockbox/test/account-keys"
ACCOUNT_KEYS = {"current": "1", "1": secrets.token_urlsafe(48)}
MAIL_FROM = "no-reply@lockbox.test"  # verified in moto's SES by function_environment
APP_URL = "https://app.lockbox.test"

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
    "ACCOUNT_KEYS_SECRET_ID": ACCOUNT_KEYS_SECRET_ID,
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": "lockbox-api-clients",
    "BCRYPT_COST": "4",
    "MAX_VALUE_BYTES": "65536",
    "PASSWORD_POLICY": "nist",
    "ALLOWED_ORIGIN": "*",
    "MAIL_FROM": MAIL_FROM,
    "APP_URL": APP_URL,
}
# Never a developer's real AWS account or endpoint.
_UNWANTED = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SESV2",
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
    from lockbox.mail import mail_sender
    from lockbox.signing import account_keys, signing_keys

    for name, value in FUNCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    caches = (
        settings.get_settings.cache_clear,
        dynamodb.client.cache_clear,
        signing_keys.forget_cached_key,
        account_keys.forget_cached_keys,
        mail_sender.mail_settings.cache_clear,
        mail_sender.sesv2_client.cache_clear,
    )
    for clear in caches:
        clear()
    with mock_aws():
        secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
        create_signing_key(secretsmanager)
        secretsmanager.create_secret(
            Name=ACCOUNT_KEYS_SECRET_ID, SecretString=json.dumps(ACCOUNT_KEYS)
        )
        # SES sends only from verified identities (moto checks it too).
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=MAIL_FROM)
        yield
    for clear in caches:
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


# --- the template's IAM policies, enforced on the functions' AWS requests ------------------
#
# moto checks no permissions, so a function whose policy lacks an action it uses would pass
# every test and fail in AWS with AccessDenied. While a handler runs (calls.handler marks
# it), each DynamoDB and Secrets Manager request it makes is checked against its policy in
# template.yaml, and refused as AWS would refuse it.

RUNNING_FUNCTION: ContextVar[str | None] = ContextVar("running_function", default=None)

# The actions each part of a transaction needs:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
_TRANSACTION_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
SES_IDENTITIES = "ses:identity/*"  # the SES identities of the account and region
Permission = tuple[str, str]  # ("dynamodb:GetItem", logical id of the table, or "<id>/index")


@contextmanager
def running_function(key: str) -> Iterator[None]:
    """Mark the handler of function `key` as running: its requests are checked."""
    _enforce_policies_on_the_functions_clients()
    token = RUNNING_FUNCTION.set(key)
    try:
        yield
    finally:
        RUNNING_FUNCTION.reset(token)


def _resource_ids() -> dict[str, str]:
    """The logical id of each table and secret, by the name the functions' environment
    gives it here (USERS_TABLE=UsersTable, JWT_SECRET_ID=lockbox/test/...)."""
    from lockbox_local.template import load_template, resources_of_type

    functions = resources_of_type(load_template(), "AWS::Serverless::Function").values()
    return {
        os.environ[name]: value["Ref"]
        for function in functions
        for name, value in function["Properties"]["Environment"]["Variables"].items()
        if isinstance(value, dict) and set(value) == {"Ref"} and name in os.environ
    }


def _resource_of(value: Any) -> list[str]:
    """The logical ids a policy statement's Resource names (an index as "<id>/index")."""
    if isinstance(value, list):
        return [r for item in value for r in _resource_of(item)]
    if value == "*":
        return ["*"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
        return [logical_id if attribute == "Arn" else f"{logical_id}/{attribute}"]
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        if value["Fn::Sub"].endswith(":identity/*"):
            return [SES_IDENTITIES]
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}(/index/.*)?", value["Fn::Sub"])
        if found:
            return [found[1] + ("/index" if found[2] else "")]
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return [value["Ref"]]
    raise AssertionError(f"a policy resource the test cannot read: {value}")


def _statements(function: dict[str, Any], resources: dict[str, Any]) -> list[dict[str, Any]]:
    properties = function["Properties"]
    role = properties.get("Role")
    if role is not None:
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) else str(role).split(".")[0]
        documents = [p["PolicyDocument"] for p in resources[role_id]["Properties"]["Policies"]]
        return [s for document in documents for s in document["Statement"]]
    statements: list[dict[str, Any]] = []
    for policy in properties.get("Policies", []):
        if "Statement" in policy:
            statements += policy["Statement"]
        elif "AWSSecretsManagerGetSecretValuePolicy" in policy:
            secret = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
            statements.append({"Action": "secretsmanager:GetSecretValue", "Resource": secret})
        else:
            raise AssertionError(f"a SAM policy template the test cannot read: {policy}")
    return statements


@cache
def function_permissions() -> dict[str, frozenset[Permission]]:
    """By function key, every (action, resource) its template policy allows."""
    from lockbox_local.template import function_keys, load_template

    template = load_template()
    resources = template["Resources"]
    permissions: dict[str, frozenset[Permission]] = {}
    for logical_id, key in function_keys(template).items():
        allowed = set()
        for statement in _statements(resources[logical_id], resources):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                allowed |= {(action, r) for r in _resource_of(statement["Resource"])}
        permissions[key] = frozenset(allowed)
    return permissions


def needed_permissions(service: str, operation: str, params: dict[str, Any]) -> set[Permission]:
    """The (action, resource) pairs a request needs, its resources named by logical id."""
    ids = _resource_ids()
    if service == "secretsmanager":
        return {(f"secretsmanager:{operation}", ids.get(params["SecretId"], params["SecretId"]))}
    if service == "email":  # SES v2 (its endpoint prefix); IAM's actions are ses:*
        return {(f"ses:{operation}", SES_IDENTITIES)}
    needed: set[Permission] = set()
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for part in params["TransactItems"]:
            ((kind, request),) = part.items()
            needed.add((f"dynamodb:{_TRANSACTION_PARTS[kind]}", ids[request["TableName"]]))
    elif "RequestItems" in params:  # BatchGetItem, BatchWriteItem
        needed |= {(f"dynamodb:{operation}", ids[table]) for table in params["RequestItems"]}
    else:
        table = ids[params["TableName"]]
        needed.add((f"dynamodb:{operation}", table + ("/index" if "IndexName" in params else "")))
    return needed


def _enforce_policies_on_the_functions_clients() -> None:
    from lockbox.core import dynamodb
    from lockbox.mail.mail_sender import sesv2_client
    from lockbox.signing.signing_keys import secretsmanager_client

    for client in (dynamodb.client(), secretsmanager_client(), sesv2_client()):
        if getattr(client.meta, "lockbox_policies_enforced", False):
            continue
        client.meta.lockbox_policies_enforced = True
        # The API parameters, before botocore serializes them (before-call sees the HTTP body).
        event_name = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}"
        client.meta.events.register(event_name, _enforce)


def _enforce(model: Any, params: dict[str, Any], **_: Any) -> None:
    from botocore.exceptions import ClientError

    key = RUNNING_FUNCTION.get()
    if key is None:  # a test's own request (setting up or inspecting), not a function's
        return
    service = model.service_model.endpoint_prefix
    allowed = function_permissions()[key]
    missing = {
        (action, resource)
        for action, resource in needed_permissions(service, model.name, params)
        if not {(action, resource), (action, "*")} & allowed
    }
    if missing:
        message = f"{key} is not authorized to perform {sorted(missing)} (template.yaml policy)"
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": message}}, model.name
        )
