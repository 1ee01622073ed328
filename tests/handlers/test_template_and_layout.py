"""template.yaml's gateway responses, thin handler modules, and the events/ files themselves."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from lockbox.core import dynamodb
from lockbox.core.errors import ErrorCode
from lockbox.core.responses import error_body
from lockbox.signing.tokens import issue_access_token
from lockbox_local.template import PROJECT_ROOT, function_keys, load_template, resources_of_type
from tests.support import function_permissions, needed_permissions, running_function

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
EVENTS_DIR = PROJECT_ROOT / "events"
REQUIRED_GATEWAY_RESPONSES = {
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
    "THROTTLED",
    "REQUEST_TOO_LARGE",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
}


def api_properties() -> dict[str, Any]:
    (api,) = resources_of_type(load_template(), "AWS::Serverless::Api").values()
    properties: dict[str, Any] = api["Properties"]
    return properties


GATEWAY_RESPONSES: dict[str, Any] = dict(api_properties()["GatewayResponses"])


# --- GatewayResponses ---------------------------------------------------------------------------


def test_gateway_responses_cover_every_response_api_gateway_makes() -> None:
    """The template defines every gateway response type the contract needs."""
    assert set(GATEWAY_RESPONSES) >= REQUIRED_GATEWAY_RESPONSES


@pytest.mark.parametrize("response_type", sorted(GATEWAY_RESPONSES))
def test_gateway_response_body_is_the_envelope_of_its_code(response_type: str) -> None:
    """Given a gateway response, its JSON template equals error_body(code), status and all."""
    response = GATEWAY_RESPONSES[response_type]
    body = json.loads(response["ResponseTemplates"]["application/json"])
    code = ErrorCode[body["code"]]

    assert body == error_body(code)
    assert int(response["StatusCode"]) == code.status
    assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/json'"


@pytest.mark.parametrize(
    ("response_type", "code"),
    [
        ("UNAUTHORIZED", ErrorCode.INVALID_TOKEN),
        ("ACCESS_DENIED", ErrorCode.INVALID_TOKEN),
        ("MISSING_AUTHENTICATION_TOKEN", ErrorCode.NOT_FOUND),
        ("THROTTLED", ErrorCode.TOO_MANY_REQUESTS),
        ("DEFAULT_5XX", ErrorCode.INTERNAL_ERROR),
    ],
)
def test_gateway_responses_use_the_contract_code(response_type: str, code: ErrorCode) -> None:
    """A missing or bad token is INVALID_TOKEN, an unknown route NOT_FOUND, and so on."""
    body = json.loads(GATEWAY_RESPONSES[response_type]["ResponseTemplates"]["application/json"])

    assert body["code"] == code.name


def test_validation_expression_admits_issued_tokens_and_refuses_other_schemes() -> None:
    """The authorizer's ValidationExpression lets real tokens through and stops the rest early."""
    authorizers = api_properties()["Auth"]["Authorizers"]
    assert set(authorizers) == {"TokenAuthorizer", "UncachedTokenAuthorizer"}
    for authorizer in authorizers.values():
        expression = re.compile(authorizer["Identity"]["ValidationExpression"])

        assert expression.fullmatch(f"Bearer {issue_access_token('u-1', 's-1')}")
        assert expression.fullmatch(f"bearer {issue_access_token('u-1', 's-1')}")
        assert not expression.fullmatch("Basic am9objpzZWNyZXQ=")
        assert not expression.fullmatch("Bearer ")


def test_data_routes_require_the_authorizer_and_account_routes_do_not() -> None:
    """Given the template's routes, bearer routes use an authorizer, the routes that take
    credentials (registration, login, refresh) do not."""
    no_token = {"/api/register", "/api/token", "/api/token/refresh", "/users/register"}
    # A mailed link is the credential of verify and reset; forgot takes none.
    no_token |= {
        "/users/login",
        "/api/token/mfa",
        "/api/email/verify",
        "/api/password/forgot",
        "/api/password/reset",
    }
    uncached = {"/users/profile", "/users/logout"}  # refused at once after /users/logout
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    for logical_id, function in functions.items():
        for api_event in api_events(function):
            properties = api_event["Properties"]
            authorizer = properties.get("Auth", {}).get("Authorizer")
            if properties["Path"] in no_token:
                assert authorizer == "NONE", logical_id
            elif properties["Path"] in uncached:
                assert authorizer == "UncachedTokenAuthorizer", logical_id
            else:
                assert authorizer is None, logical_id  # the API's DefaultAuthorizer applies


def api_events(function: dict[str, Any]) -> list[dict[str, Any]]:
    """The function's Api events (the purge function has a DynamoDB stream event)."""
    events = function["Properties"].get("Events", {}).values()
    return [event for event in events if event["Type"] == "Api"]


def test_items_table_expires_items_by_expires_at() -> None:
    """The ttl's expires_at is the items table's DynamoDB TTL attribute."""
    table = load_template()["Resources"]["ItemsTable"]["Properties"]

    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_list_function_may_only_query_the_items_table_and_read_the_signing_key() -> None:
    """Least privilege: the listing needs Query on the items table, and the JWT key for
    its cursors; no other DynamoDB action."""
    policies = load_template()["Resources"]["ListItemsFunction"]["Properties"]["Policies"]
    statements = [s for policy in policies for s in policy.get("Statement", [])]

    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("dynamodb:Query", {"Fn::GetAtt": ["ItemsTable", "Arn"]})
    ]
    assert [name for policy in policies for name in policy if name != "Statement"] == [
        "AWSSecretsManagerGetSecretValuePolicy"
    ]


# --- thin handlers ------------------------------------------------------------------------------

HANDLER_MODULES = sorted(FUNCTIONS_DIR.glob("*/app.py"))


def code_lines(source: str) -> int:
    """Lines of code: not blank, not comments, not the module docstring."""
    tree = ast.parse(source)
    docstring_lines: set[int] = set()
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        docstring_lines = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstring_lines
    )


def defined_names(source: str) -> set[str]:
    """Names a module defines at top level: functions, and plain assignments."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    return roots


def test_every_function_folder_has_a_handler_module() -> None:
    """Each endpoint and the authorizer has functions/<name>/app.py."""
    assert len(HANDLER_MODULES) >= 7
    assert {path.parent.name for path in HANDLER_MODULES} >= {
        "authorizer",
        "register",
        "token",
        "store_item",
        "get_item",
        "update_item",
        "delete_item",
    }


@pytest.mark.parametrize("module", HANDLER_MODULES, ids=lambda path: path.parent.name)
def test_handler_module_is_thin(module: Path) -> None:
    """Given a handler module, it is a few lines of glue: no AWS SDK, no business logic."""
    source = module.read_text()

    assert code_lines(source) <= 25
    assert not imported_roots(source) & {"boto3", "botocore"}
    assert "lambda_handler" in defined_names(source)


def test_template_functions_point_at_existing_handlers() -> None:
    """Every function's CodeUri holds app.py with lambda_handler."""
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    for logical_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Handler"] == "app.lambda_handler", logical_id
        assert (PROJECT_ROOT / properties["CodeUri"] / "app.py").is_file(), logical_id


def test_authorizer_imports_neither_boto3_nor_pydantic() -> None:
    """Importing the authorizer (a fresh interpreter) loads no AWS SDK client code or pydantic.

    (Powertools itself imports the bare `botocore` package to tag user agents; that is
    its package __init__ only, so the check looks for the SDK's client machinery.)
    """
    heavy = "{'boto3', 'botocore.client', 'botocore.session', 'pydantic'}"
    probe = f"import sys, functions.authorizer.app; print(sorted({heavy} & set(sys.modules)))"
    pytest_options = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    # The same import roots pytest uses (its `pythonpath` option), for the child interpreter.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pytest_options["ini_options"]["pythonpath"])}

    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"


LAYER = PROJECT_ROOT / "layers" / "common" / "lockbox"
DYNAMODB_SEAM = LAYER / "core" / "dynamodb.py"


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text())
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize(
    "module", sorted(LAYER.rglob("*.py")), ids=lambda path: str(path.relative_to(LAYER))
)
def test_layer_reaches_dynamodb_only_through_the_seam(module: Path) -> None:
    """Given a layer module, it imports the DynamoDB seam as a module (never a name out of
    it, such as the client getter), so one hook on the one client sees every request."""
    if module == DYNAMODB_SEAM:
        return
    names_from_seam = [
        alias.name
        for node in _imports(module)
        if isinstance(node, ast.ImportFrom) and node.module == "lockbox.core.dynamodb"
        for alias in node.names
    ]
    assert names_from_seam == []
    assert 'client("dynamodb"' not in module.read_text()


def test_the_layer_has_at_least_four_context_packages() -> None:
    """Given the layer, its modules live in context subpackages (core and at least three more)."""
    packages = {path.parent.name for path in LAYER.glob("*/__init__.py")}
    assert "core" in packages
    assert len(packages) >= 4


# --- events/ ------------------------------------------------------------------------------------

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
PROXY_KEYS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
REQUEST_CONTEXT_KEYS = {
    "resourceId",
    "resourcePath",
    "httpMethod",
    "extendedRequestId",
    "requestTime",
    "path",
    "accountId",
    "protocol",
    "stage",
    "domainPrefix",
    "requestTimeEpoch",
    "requestId",
    "identity",
    "domainName",
    "apiId",
}


def read_event(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text())
    return event


PROXY_FILES = [path for path in EVENT_FILES if "httpMethod" in read_event(path)]
AUTHORIZER_FILES = [path for path in EVENT_FILES if read_event(path).get("type") == "TOKEN"]
STREAM_FILES = [path for path in EVENT_FILES if "Records" in read_event(path)]
# Routes behind the authorizer besides /api/data: their events carry user_id and sid.
DATA_ROUTES = ("/api/data", "/api/batch", "/api/export")  # the key-value store's routes
BEARER_ROUTES = (
    "/api/logout",
    "/api/account",
    "/api/password",
    "/users/profile",
    "/users/logout",
    "/api/sessions",
    "/api/sessions/{session_id}",
    "/api/account/activity",
    "/api/mfa/totp/setup",
    "/api/mfa/totp/confirm",
    "/api/mfa/totp",
    "/api/mfa/recovery-codes",
    "/api/email",
    "/api/email/verify/send",
)


def template_routes() -> set[tuple[str, str]]:
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    return {
        (api_event["Properties"]["Path"], api_event["Properties"]["Method"].upper())
        for function in functions.values()
        for api_event in api_events(function)
    }


def test_every_event_file_is_a_proxy_or_a_token_authorizer_event() -> None:
    """Every events/ file is one of the two shapes (or the purge function's stream batch),
    and there are enough of each."""
    assert set(PROXY_FILES) | set(AUTHORIZER_FILES) | set(STREAM_FILES) == set(EVENT_FILES)
    assert len(PROXY_FILES) >= 17
    assert len(AUTHORIZER_FILES) >= 9


@pytest.mark.parametrize("path", PROXY_FILES, ids=lambda path: path.stem)
def test_proxy_event_has_the_rest_v1_shape(path: Path) -> None:
    """Given a proxy event file, it has the REST v1 keys for a route of the template."""
    event = read_event(path)
    context = event["requestContext"]

    assert set(event) == PROXY_KEYS
    assert set(context) - {"authorizer"} == REQUEST_CONTEXT_KEYS
    assert {"sourceIp", "userAgent"} <= set(context["identity"])
    assert (event["resource"], event["httpMethod"]) in template_routes()
    assert (context["resourcePath"], context["httpMethod"]) == (
        event["resource"],
        event["httpMethod"],
    )
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert event["body"] is None or isinstance(event["body"], str)
    assert event["isBase64Encoded"] is False
    assert event["multiValueHeaders"] == {name: [v] for name, v in event["headers"].items()}


@pytest.mark.parametrize("path", PROXY_FILES, ids=lambda path: path.stem)
def test_path_is_percent_encoded_and_path_parameters_decoded(path: Path) -> None:
    """Given a {key} or {session_id} event, path is the percent-encoded path parameter."""
    event = read_event(path)
    names = re.findall(r"\{(\w+)\}", event["resource"])
    if not names:
        assert event["pathParameters"] is None
        return
    expected = event["resource"]
    for name in names:
        expected = expected.replace(f"{{{name}}}", quote(event["pathParameters"][name], safe=""))
    assert event["path"] == expected


@pytest.mark.parametrize("path", PROXY_FILES, ids=lambda path: path.stem)
def test_data_events_carry_the_authorizer_context(path: Path) -> None:
    """Given a bearer route's event, the authorizer context holds user_id (and sid off
    the data routes), unless the file says not."""
    event = read_event(path)
    authorizer = event["requestContext"].get("authorizer")
    data = event["resource"].startswith(DATA_ROUTES)
    bearer = data or event["resource"] in BEARER_ROUTES
    if not bearer or "no_authorizer" in path.stem:
        assert authorizer is None
        return

    assert authorizer["user_id"]
    assert authorizer.get("sid") or data
    assert authorizer["principalId"] == authorizer["user_id"]


def test_request_ids_are_distinct() -> None:
    """No two proxy event files share a requestId."""
    ids = [read_event(path)["requestContext"]["requestId"] for path in PROXY_FILES]

    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", AUTHORIZER_FILES, ids=lambda path: path.stem)
def test_authorizer_event_has_the_token_shape(path: Path) -> None:
    """Given an authorizer file, it is a TOKEN event with a methodArn of the API."""
    event = read_event(path)

    assert set(event) - {"authorizationToken"} == {"type", "methodArn"}
    assert re.fullmatch(
        r"arn:aws:execute-api:[a-z0-9-]+:\d{12}:[a-z0-9]+/[a-z0-9-]+/[A-Z]+/api/data(/.*)?",
        event["methodArn"],
    )


def test_events_readme_lists_every_file() -> None:
    """events/README.md names every events/ file."""
    readme = (EVENTS_DIR / "README.md").read_text()

    missing = [path.name for path in EVENT_FILES if f"`{path.name}`" not in readme]

    assert missing == []


def test_every_event_file_is_named_after_a_function_key() -> None:
    """Given events/, each file is <function key>_<case>.json, the key being a function's
    folder under functions/ as the template names it."""
    keys = set(function_keys().values())
    unnamed = [
        path.name
        for path in EVENT_FILES
        if not any(path.stem.startswith(f"{key}_") for key in keys)
    ]
    assert unnamed == []


def test_every_function_folder_is_a_template_function() -> None:
    """Given functions/, every folder is one function of the template, and the reverse."""
    folders = {
        path.name
        for path in FUNCTIONS_DIR.iterdir()
        if path.is_dir() and path.name != "__pycache__"
    }
    assert folders == set(function_keys().values())


def test_a_transactions_parts_need_their_own_actions() -> None:
    """Given a transaction with a ConditionCheck and an Update, it needs ConditionCheckItem
    and UpdateItem on the table (AWS checks each part), which the suite's policy check asks
    of the function's template policy."""
    request = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "UsersTable", "Key": {}}},
            {"Update": {"TableName": "UsersTable", "Key": {}}},
        ]
    }

    assert needed_permissions("dynamodb", "TransactWriteItems", request) == {
        ("dynamodb:ConditionCheckItem", "UsersTable"),
        ("dynamodb:UpdateItem", "UsersTable"),
    }


def test_a_request_outside_the_functions_policy_is_refused_as_aws_would(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given the get_item function, whose policy allows reads of the items table only, when
    it tries to write there, then AWS's AccessDeniedException is raised."""
    with running_function("get_item"), pytest.raises(ClientError) as refused:
        dynamodb.client().put_item(
            TableName="ItemsTable", Item={"user_id": {"S": "u"}, "key": {"S": "k"}}
        )

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert ("dynamodb:PutItem", "ItemsTable") not in function_permissions()["get_item"]


def test_no_route_shadows_a_key() -> None:
    """Given every route of the template, no static path segment sits where another route
    with the same segments before it takes a parameter: API Gateway would match the static
    segment first and hide the key of that name (so the batch routes live under /api/batch)."""
    routes = [path.strip("/").split("/") for path, _ in template_routes()]
    shadows = []
    for one in routes:
        for other in routes:
            for mine, theirs in zip(one, other, strict=False):
                if mine != theirs:
                    if mine.startswith("{") != theirs.startswith("{"):
                        shadows.append(("/" + "/".join(one), "/" + "/".join(other)))
                    break

    assert shadows == []
