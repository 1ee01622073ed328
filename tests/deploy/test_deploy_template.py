"""What CloudFormation receives from template.yaml, checked after SAM's own transform."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest

from lockbox_local.template import PROJECT_ROOT
from tests.deploy.sam_transform import (
    NO_VALUE,
    Evaluator,
    resources,
    sam_template,
    transformed,
)

ORIGIN = {"Fn::Sub": "'${AllowedOrigin}'"}
BCRYPT_FUNCTIONS = (
    "RegisterFunction",
    "TokenFunction",
    "UsersRegisterFunction",
    "UsersLoginFunction",
    "ChangePasswordFunction",
    "DeleteAccountFunction",
)
NO_TOKEN_PATHS = {
    "/api/register",
    "/api/token",
    "/api/token/refresh",
    "/api/token/mfa",
    "/users/register",
    "/users/login",
    "/api/email/verify",
    "/api/password/forgot",
    "/api/password/reset",
}
UNCACHED_PATHS = {"/users/profile", "/users/logout"}
# Functions that read the signing key from Secrets Manager.
KEY_READERS = ("AuthorizerFunction", "TokenFunction", "UsersRegisterFunction")
# The functions that hash or check a password: they read the pepper (AccountKeys).
PEPPER_READERS = (
    "RegisterFunction",
    "TokenFunction",
    "UsersRegisterFunction",
    "UsersLoginFunction",
    "ChangePasswordFunction",
    "DeleteAccountFunction",
)


def api_body() -> dict[str, Any]:
    (api,) = resources("AWS::ApiGateway::RestApi").values()
    body: dict[str, Any] = api["Properties"]["Body"]
    return body


def route_paths() -> dict[str, set[str]]:
    """Each path of the API with its methods, OPTIONS aside."""
    return {
        path: {method.upper() for method in item if method != "options"}
        for path, item in api_body()["paths"].items()
    }


def header_values(parameters: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {name.removeprefix(prefix): value for name, value in parameters.items()}


# --- stages and endpoint --------------------------------------------------------------------------


def test_only_the_configured_stage_is_created() -> None:
    """No stray "Stage" stage: one Stage resource, named by the Stage parameter."""
    stages = resources("AWS::ApiGateway::Stage")
    deployments = resources("AWS::ApiGateway::Deployment")

    assert [stage["Properties"]["StageName"] for stage in stages.values()] == [{"Ref": "Stage"}]
    assert len(deployments) == 1
    assert all("StageName" not in d["Properties"] for d in deployments.values())


def test_api_is_regional() -> None:
    (api,) = resources("AWS::ApiGateway::RestApi").values()

    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


# --- CORS -----------------------------------------------------------------------------------------


def test_every_route_path_has_a_preflight() -> None:
    paths = route_paths()

    assert {
        "/api/register",
        "/api/token",
        "/api/data",
        "/api/data/{key}",
        "/users/register",
    } <= set(paths)
    assert all("options" in item for item in api_body()["paths"].values())


@pytest.mark.parametrize("path", sorted(route_paths()))
def test_preflight_answers_204_without_body_or_authorizer(path: str) -> None:
    """Given a path, OPTIONS is a mock answering 204, no authorizer, the route's methods."""
    options = api_body()["paths"][path]["options"]
    integration = options["x-amazon-apigateway-integration"]
    response = integration["responses"]["default"]
    headers = header_values(response["responseParameters"], "method.response.header.")

    assert "security" not in options
    assert "security" not in api_body()
    assert integration["type"] == "mock"
    assert json.loads(integration["requestTemplates"]["application/json"]) == {"statusCode": 204}
    assert response["statusCode"] == "204"
    assert response["responseTemplates"] == {"application/json": ""}
    assert set(options["responses"]) == {"204"}
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    methods = set(headers["Access-Control-Allow-Methods"].strip("'").split(","))
    assert methods == route_paths()[path] | {"OPTIONS"}
    allowed = {
        h.strip().lower() for h in headers["Access-Control-Allow-Headers"].strip("'").split(",")
    }
    assert {"authorization", "content-type", "if-match"} <= allowed
    assert int(headers["Access-Control-Max-Age"].strip("'")) >= 600


@pytest.mark.parametrize("path", sorted(route_paths()))
def test_routes_keep_their_authorizer_choice(path: str) -> None:
    """Bearer routes use the TOKEN authorizer (/users/profile and /users/logout its uncached
    twin); the routes that take no token do not."""
    for method, operation in api_body()["paths"][path].items():
        if method == "options":
            continue
        if path in NO_TOKEN_PATHS:
            expected = "NONE"
        elif path in UNCACHED_PATHS:
            expected = "UncachedTokenAuthorizer"
        else:
            expected = "TokenAuthorizer"
        assert operation["security"] == [{expected: []}], (path, method)


def test_every_gateway_response_carries_the_cors_headers() -> None:
    responses = api_body()["x-amazon-apigateway-gateway-responses"]

    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "WAF_FILTERED"} <= set(responses)
    for response_type, response in responses.items():
        headers = header_values(response["responseParameters"], "gatewayresponse.header.")
        assert headers["Access-Control-Allow-Origin"] == ORIGIN, response_type
        assert headers["Access-Control-Expose-Headers"] == "'ETag, Retry-After'", response_type
        assert headers["Content-Type"] == "'application/json'", response_type


def test_allowed_origin_reaches_every_function() -> None:
    for logical_id, function in resources("AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["ALLOWED_ORIGIN"] == {"Ref": "AllowedOrigin"}, logical_id


def test_allowed_origin_defaults_to_any_origin() -> None:
    assert sam_template()["Parameters"]["AllowedOrigin"]["Default"] == "*"


# --- one template for every region: no extension layer, no region table --------------------------


def test_no_region_table_and_no_layer_from_outside_the_stack() -> None:
    """Given the transformed template, no Mappings and every function's layers are the
    stack's own: nothing is looked up per region, so it deploys wherever Lambda runs."""
    template = transformed()

    assert "Mappings" not in template
    assert "SecretsExtensionLayerArn" not in template["Parameters"]
    layer_versions = set(resources("AWS::Lambda::LayerVersion"))
    for logical_id, function in resources("AWS::Lambda::Function").items():
        (layer,) = function["Properties"]["Layers"]
        assert layer["Ref"] in layer_versions, logical_id
    assert "Parameters-and-Secrets" not in json.dumps(template)


def secret_statement(secret_id: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": secret_id}}]},
    }


def test_key_readers_may_read_only_the_signing_key_and_the_pepper() -> None:
    """Given the functions that read the signing key or the pepper, their roles allow
    GetSecretValue on those secrets' ARNs (the Ref of each) and nothing else of Secrets
    Manager."""
    roles = resources("AWS::IAM::Role")
    for function_id in {*KEY_READERS, *PEPPER_READERS}:
        statements = [
            statement
            for policy in roles[f"{function_id}Role"]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        secrets = [s for s in statements if "secretsmanager" in json.dumps(s["Action"])]
        allowed = [secret_statement("JwtSigningKey"), secret_statement("AccountKeys")]
        assert all(statement in allowed for statement in secrets), function_id
        if function_id in KEY_READERS:
            assert secret_statement("JwtSigningKey") in secrets, function_id
        if function_id in PEPPER_READERS:
            assert secret_statement("AccountKeys") in secrets, function_id


# --- data, logs, alarms, WAF ----------------------------------------------------------------------


def test_tables_are_retained() -> None:
    tables = resources("AWS::DynamoDB::Table")

    assert set(tables) == {"UsersTable", "ItemsTable"}
    for table in tables.values():
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_functions_log_json() -> None:
    for logical_id, function in resources("AWS::Lambda::Function").items():
        assert function["Properties"]["LoggingConfig"] == {
            "LogFormat": "JSON",
            "SystemLogLevel": "WARN",  # no platform.start/report lines on every invocation
        }, logical_id


def test_bcrypt_functions_are_sized_by_parameter() -> None:
    functions = resources("AWS::Lambda::Function")
    parameters = sam_template()["Parameters"]

    assert parameters["BcryptMemorySize"]["Default"] == 1769
    for logical_id in BCRYPT_FUNCTIONS:
        properties = functions[logical_id]["Properties"]
        assert properties["MemorySize"] == {"Ref": "BcryptMemorySize"}
        concurrency = properties["ReservedConcurrentExecutions"]
        for value, expected in (("0", NO_VALUE), ("20", "20")):
            evaluator = Evaluator(transformed(), "us-east-1", {"BcryptReservedConcurrency": value})
            assert evaluator.evaluate(concurrency) == expected


def alarms() -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in resources("AWS::CloudWatch::Alarm").values()]


def alarm_metrics() -> set[tuple[str, str, str]]:
    """(namespace, metric, the dimension value) of every alarm, metric math included."""
    found: set[tuple[str, str, str]] = set()
    for alarm in alarms():
        stats = [
            query["MetricStat"]["Metric"]
            for query in alarm.get("Metrics", [])
            if "MetricStat" in query
        ]
        for metric in [alarm, *stats]:
            if "MetricName" in metric:
                dimension = json.dumps(metric["Dimensions"][0]["Value"], sort_keys=True)
                found.add((metric["Namespace"], metric["MetricName"], dimension))
    return found


def test_every_alarm_notifies_the_topic() -> None:
    assert len(alarms()) >= 20
    for alarm in alarms():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    (subscription,) = resources("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"


def test_api_alarms_cover_5xx_rate_and_p99_latency() -> None:
    """The 5xx rate is metric math over Sum of 5XXError and Count (its minimum sample:
    test_deploy_failures); the latency alarm reads p99."""
    by_metric = {a.get("MetricName"): a for a in alarms() if a.get("Namespace") == "AWS/ApiGateway"}
    (rate,) = [a for a in alarms() if "5XXError" in json.dumps(a.get("Metrics", []))]

    assert "rate" in {query["Id"] for query in rate["Metrics"]}
    assert by_metric["Latency"]["ExtendedStatistic"] == "p99"


def test_every_function_has_error_and_throttle_alarms() -> None:
    metrics = alarm_metrics()
    for logical_id in resources("AWS::Lambda::Function"):
        ref = json.dumps({"Ref": logical_id})
        assert ("AWS/Lambda", "Errors", ref) in metrics, logical_id
        assert ("AWS/Lambda", "Throttles", ref) in metrics, logical_id


def test_both_tables_have_throttle_alarms() -> None:
    metrics = alarm_metrics()
    for table in ("UsersTable", "ItemsTable"):
        ref = json.dumps({"Ref": table})
        assert ("AWS/DynamoDB", "ReadThrottleEvents", ref) in metrics
        assert ("AWS/DynamoDB", "WriteThrottleEvents", ref) in metrics


def test_failed_logins_alarm_watches_the_metric_the_token_function_publishes() -> None:
    variables = sam_template()["Globals"]["Function"]["Environment"]["Variables"]
    (alarm,) = [a for a in alarms() if a.get("MetricName") == "FailedLogins"]

    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [
        {"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}
    ]


def test_dashboard_body_is_json_once_substituted() -> None:
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    text = Evaluator(transformed(), "eu-west-1").evaluate(dashboard["Properties"]["DashboardBody"])

    assert len(json.loads(text)["widgets"]) >= 5


@pytest.mark.parametrize(("setting", "logs"), [("off", False), ("existing-role", True)])
def test_access_logs_follow_the_parameter(setting: str, logs: bool) -> None:
    (stage,) = resources("AWS::ApiGateway::Stage").values()
    evaluator = Evaluator(transformed(), "us-east-1", {"ApiAccessLogs": setting})
    access_log = evaluator.evaluate(stage["Properties"]["AccessLogSetting"])

    assert evaluator.condition("AccessLogsEnabled") is logs
    if not logs:
        assert access_log is NO_VALUE
        return
    assert access_log["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    # Each $context variable becomes a string; messageString comes with its own quotes.
    line = access_log["Format"].replace("$context.error.messageString", '"message"')
    fields = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "value", line))
    assert all(value in ("value", "message") for value in fields.values())
    assert {"requestId", "ip", "status", "resourcePath", "responseLatency"} <= set(fields)


def test_access_log_group_is_conditional_and_off_by_default() -> None:
    template = transformed()["Resources"]

    assert template["ApiAccessLogGroup"]["Condition"] == "AccessLogsEnabled"
    assert sam_template()["Parameters"]["ApiAccessLogs"]["Default"] == "off"


def test_waf_is_conditional_and_limits_the_routes_that_take_no_token() -> None:
    template = transformed()["Resources"]
    acl = template["WebAcl"]
    statement = acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    searched = {
        s["ByteMatchStatement"]["SearchString"]
        for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]
    }
    no_token = {
        path
        for path, item in api_body()["paths"].items()
        for method, op in item.items()
        if method != "options" and op["security"] == [{"NONE": []}]
    }

    assert acl["Condition"] == template["WebAclAssociation"]["Condition"] == "WafEnabled"
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == {"Ref": "WafRateLimit"}
    assert no_token <= searched
    assert {"/users/login"} <= searched
    assert sam_template()["Parameters"]["EnableWaf"]["Default"] == "false"
    assert "${LockboxApiStage}" in json.dumps(
        template["WebAclAssociation"]["Properties"]["ResourceArn"]
    )


# --- no AWS needed --------------------------------------------------------------------------------


def test_transform_needs_no_credentials_or_network() -> None:
    """The transform in a fresh interpreter with no AWS credentials and every proxy dead."""
    scrubbed = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env = {
        **scrubbed,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "PYTHONPATH": os.pathsep.join(["layers/common", "."]),
    }
    probe = (
        "from tests.deploy.sam_transform import transformed; print(len(transformed()['Resources']))"
    )

    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 40


def test_samconfig_overrides_only_template_parameters() -> None:
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    declared = set(sam_template()["Parameters"])
    for environment, commands in config.items():
        if not isinstance(commands, dict):
            continue
        text = commands.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        names = {pair.split("=", 1)[0] for pair in text.split()}
        assert names <= declared, environment


def test_every_environment_deploys_with_the_language_extensions() -> None:
    """The template's Fn::ForEach needs SAM CLI to expand it (sam build, sam local) and
    CloudFormation to run the AWS::LanguageExtensions transform (CAPABILITY_AUTO_EXPAND)."""
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    environments = [name for name, commands in config.items() if isinstance(commands, dict)]

    assert set(environments) >= {"default", "dev", "prod"}
    assert "AWS::LanguageExtensions" in sam_template()["Transform"]
    for environment in environments:
        commands = config[environment]
        assert commands["global"]["parameters"]["language_extensions"] is True, environment
        capabilities = commands["deploy"]["parameters"]["capabilities"].split()
        assert {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(capabilities), environment


def test_dashboard_shows_every_api_function() -> None:
    """Given the dashboard, it names every function behind the API (the rotation function
    has its own alarms and is not on a request path)."""
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    text = body if isinstance(body, str) else body[0]
    functions = {
        logical_id
        for logical_id, resource in transformed()["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and logical_id != "RotateSigningKeyFunction"
    }

    assert {name for name in functions if "${" + name + "}" not in text} == set()
