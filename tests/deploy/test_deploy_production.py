"""Production choices as CloudFormation receives them after SAM's transform: gradual deploys
through an alias, nothing account-wide by default, retention on prod, the tracing sampling
rule, the access logs' class and the purge role's stream permission."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from lockbox_local.template import PROJECT_ROOT, function_keys, load_template
from tests.deploy.sam_transform import Evaluator, resources, transformed, transformed_with

FUNCTIONS = sorted(function_keys(load_template()))
# Secrets Manager invokes the rotation function itself, so it has no traffic to shift.
GRADUAL = [f for f in FUNCTIONS if f != "RotateSigningKeyFunction"]
ALIAS = "live"
BOOTSTRAP = PROJECT_ROOT / "deploy" / "apigateway-logging-role.yaml"


def api_body() -> dict[str, Any]:
    body: dict[str, Any] = resources("AWS::ApiGateway::RestApi")["LockboxApi"]["Properties"]["Body"]
    return body


def alias_id(function_id: str) -> str:
    return f"{function_id}Alias{ALIAS}"


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- Gradual deploys ------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_publishes_the_live_alias(function_id: str) -> None:
    alias = resources("AWS::Lambda::Alias")[alias_id(function_id)]

    assert alias["Properties"]["Name"] == ALIAS
    assert alias["Properties"]["FunctionName"] == {"Ref": function_id}


@pytest.mark.parametrize("function_id", GRADUAL)
def test_every_function_deploys_through_codedeploy_rolled_back_by_its_errors_alarm(
    function_id: str,
) -> None:
    stem = function_id.removesuffix("Function")
    group = resources("AWS::CodeDeploy::DeploymentGroup")[f"{function_id}DeploymentGroup"]
    alias = resources("AWS::Lambda::Alias")[alias_id(function_id)]
    properties = group["Properties"]

    assert properties["AlarmConfiguration"] == {
        "Enabled": True,
        "Alarms": [{"Name": {"Ref": f"{stem}ErrorsAlarm"}}],
    }
    assert "DEPLOYMENT_STOP_ON_ALARM" in properties["AutoRollbackConfiguration"]["Events"]
    assert properties["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]}
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": f"{function_id}DeploymentGroup"}


def test_the_deployment_groups_are_the_gradual_functions_and_nothing_else() -> None:
    groups = resources("AWS::CodeDeploy::DeploymentGroup")

    assert sorted(groups) == sorted(f"{f}DeploymentGroup" for f in GRADUAL)
    assert len(resources("AWS::CodeDeploy::Application")) == 1


@pytest.mark.parametrize(
    ("parameters", "config"),
    [
        ({"Stage": "prod"}, "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        ({"Stage": "dev"}, "CodeDeployDefault.LambdaAllAtOnce"),
        ({"Stage": "staging"}, "CodeDeployDefault.LambdaAllAtOnce"),
        (
            {"Stage": "prod", "DeploymentType": "Linear10PercentEvery1Minute"},
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        ),
        ({"Stage": "dev", "DeploymentType": "AllAtOnce"}, "CodeDeployDefault.LambdaAllAtOnce"),
    ],
)
def test_traffic_shifts_by_stage_unless_the_parameter_names_a_type(
    parameters: dict[str, str], config: str
) -> None:
    template = transformed_with(parameters)
    group = template["Resources"]["GetItemFunctionDeploymentGroup"]

    evaluator = Evaluator(template, "us-east-1", parameters)
    assert evaluator.evaluate(group["Properties"]["DeploymentConfigName"]) == config


@pytest.mark.parametrize("apply_on", ["None", "PublishedVersions"])
def test_snapstart_applies_to_every_function_as_the_parameter_says(apply_on: str) -> None:
    """Given the SnapStart parameter, when SAM transforms the template, then every function
    (and so each version its alias publishes) carries that setting."""
    parameters = {"SnapStart": apply_on}
    template = transformed_with(parameters)
    evaluator = Evaluator(template, "us-east-1", parameters)

    for function_id in FUNCTIONS:
        properties = template["Resources"][function_id]["Properties"]
        assert evaluator.evaluate(properties["SnapStart"]["ApplyOn"]) == apply_on


def test_every_route_invokes_the_alias() -> None:
    integrations = [
        operation["x-amazon-apigateway-integration"]
        for item in api_body()["paths"].values()
        for operation in item.values()
        if operation.get("x-amazon-apigateway-integration", {}).get("type") == "aws_proxy"
    ]

    # Not the authorizer, the purge, the mail sender nor the rotation function.
    assert len(integrations) == len(FUNCTIONS) - 4
    for integration in integrations:
        target = re.search(r"/functions/\$\{(\w+)\}/invocations", integration["uri"]["Fn::Sub"])
        assert target is not None
        assert target[1].endswith(f"FunctionAlias{ALIAS}")


def test_both_authorizers_invoke_the_alias() -> None:
    schemes = api_body()["components"]["securitySchemes"]
    for name in ("TokenAuthorizer", "UncachedTokenAuthorizer"):
        uri = schemes[name]["x-amazon-apigateway-authorizer"]["authorizerUri"]["Fn::Sub"]
        assert uri[1]["__FunctionArn__"] == {"Ref": alias_id("AuthorizerFunction")}


def test_api_gateway_may_invoke_only_aliases() -> None:
    permissions = [
        permission["Properties"]
        for permission in resources("AWS::Lambda::Permission").values()
        if permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]

    assert permissions
    for permission in permissions:
        assert permission["FunctionName"]["Ref"].endswith(f"Alias{ALIAS}")


def test_the_streams_feed_the_aliases() -> None:
    mappings = resources("AWS::Lambda::EventSourceMapping").values()

    assert {str(m["Properties"]["FunctionName"]) for m in mappings} == {
        str({"Ref": alias_id("PurgeItemsFunction")}),
        str({"Ref": alias_id("SendMailFunction")}),
    }


# --- Nothing account-wide ------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["off", "existing-role"])
def test_the_stack_never_sets_the_accounts_api_gateway_role(setting: str) -> None:
    template = transformed_with({"ApiAccessLogs": setting})["Resources"]
    apigateway_roles = [
        logical_id
        for logical_id, resource in template.items()
        if resource["Type"] == "AWS::IAM::Role"
        and "apigateway.amazonaws.com" in str(resource["Properties"]["AssumeRolePolicyDocument"])
    ]

    assert not [r for r in template.values() if r["Type"] == "AWS::ApiGateway::Account"]
    assert apigateway_roles == []


def test_the_bootstrap_sets_the_account_role_and_retains_both() -> None:
    bootstrap = cfn_yaml.load(str(BOOTSTRAP))["Resources"]
    account = bootstrap["ApiGatewayAccount"]
    role = bootstrap["ApiGatewayCloudWatchRole"]

    assert account["Type"] == "AWS::ApiGateway::Account"
    assert account["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]
    }
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in str(role["Properties"]["ManagedPolicyArns"])
    for resource in bootstrap.values():
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"


# --- Retention, tracing, least privilege ---------------------------------------------------


def test_every_log_group_has_the_retention_parameter() -> None:
    groups = resources("AWS::Logs::LogGroup")

    assert len(groups) == len(FUNCTIONS) + 1  # and the access logs
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize(("stage", "policy"), [("prod", "Retain"), ("dev", "Delete")])
def test_log_groups_and_the_secret_are_retained_on_prod_only(stage: str, policy: str) -> None:
    evaluator = Evaluator(transformed(), "us-east-1", {"Stage": stage})
    kept = {**resources("AWS::Logs::LogGroup"), **resources("AWS::SecretsManager::Secret")}
    del kept["AccountKeys"]  # retained everywhere (below)

    assert "JwtSigningKey" in kept
    for logical_id, resource in kept.items():
        assert evaluator.evaluate(resource["DeletionPolicy"]) == policy, logical_id
        assert evaluator.evaluate(resource["UpdateReplacePolicy"]) == policy, logical_id


def test_the_account_keys_are_retained_in_every_stage() -> None:
    """Given the password pepper lives only in AccountKeys, deleting or replacing the stack
    never deletes it: without it no password verifies."""
    secret = resources("AWS::SecretsManager::Secret")["AccountKeys"]

    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"


def test_access_logs_use_the_infrequent_access_class() -> None:
    group = resources("AWS::Logs::LogGroup")["ApiAccessLogGroup"]

    assert group["Properties"]["LogGroupClass"] == "INFREQUENT_ACCESS"


def test_every_function_traces_in_lambda_and_aws_calls_only_when_asked() -> None:
    """Lambda's own segments for every function; the X-Ray SDK's subsegments per AWS call
    (and its import at each cold start) only with TraceAwsCalls=true."""
    parameter = transformed()["Parameters"]["TraceAwsCalls"]
    functions = resources("AWS::Lambda::Function")

    assert parameter["Default"] == "false"
    for function in functions.values():
        properties = function["Properties"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        variables = properties["Environment"]["Variables"]
        assert variables["TRACE_AWS_CALLS"] == {"Ref": "TraceAwsCalls"}


def test_function_log_groups_stay_standard_for_their_embedded_metrics() -> None:
    """EMF (FailedLogins and the other alarms' metrics) is a Standard-class feature."""
    for logical_id, group in resources("AWS::Logs::LogGroup").items():
        if logical_id != "ApiAccessLogGroup":
            assert group["Properties"].get("LogGroupClass", "STANDARD") == "STANDARD"


def test_tracing_samples_this_stage_at_the_parameters_rate() -> None:
    (rule,) = resources("AWS::XRay::SamplingRule").values()
    properties = rule["Properties"]["SamplingRule"]
    parameters = transformed()["Parameters"]
    evaluator = Evaluator(transformed(), "us-east-1", {"Stage": "a" * 16})

    assert properties["FixedRate"] == {"Ref": "TracingSampleRate"}
    assert properties["ReservoirSize"] == {"Ref": "TracingReservoirPerSecond"}
    assert float(parameters["TracingSampleRate"]["Default"]) == 0.01
    assert properties["ServiceType"] == "AWS::ApiGateway::Stage"
    # API Gateway's service name is "<api name>/<stage>".
    assert evaluator.evaluate(properties["ServiceName"]) == f"lockbox-api-api/{'a' * 16}"
    assert len(evaluator.evaluate(properties["RuleName"])) <= 32


def test_the_purge_role_reads_only_the_users_tables_stream() -> None:
    roles = resources("AWS::IAM::Role")
    role = roles["PurgeItemsRole"]
    read_actions = {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"}

    assert resources("AWS::Lambda::Function")["PurgeItemsFunction"]["Properties"]["Role"] == {
        "Fn::GetAtt": ["PurgeItemsRole", "Arn"]
    }
    assert not any("DynamoDB" in str(arn) for arn in role["Properties"]["ManagedPolicyArns"])
    readers = [s for s in statements(role) if read_actions & set(as_list(s["Action"]))]
    assert [s["Resource"] for s in readers] == [{"Fn::GetAtt": ["UsersTable", "StreamArn"]}]
    assert set(readers[0]["Action"]) == read_actions
    # No role of the stack reads streams it does not own.
    for logical_id, other in roles.items():
        for statement in statements(other):
            if read_actions & set(as_list(statement["Action"])):
                assert statement["Resource"] != "*", logical_id
        assert "DynamoDBExecutionRole" not in str(other["Properties"].get("ManagedPolicyArns"))
