"""Signing-key rotation in the template, after SAM's transform (SPEC "Signing keys")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.sam_transform import Evaluator, resources, sam_template, transformed

ROTATION_RESOURCES = (
    "JwtSigningKeyRotation",
    "RotateSigningKeyFunction",
    "RotateSigningKeyFunctionRole",
    "RotateSigningKeyPermission",
    "RotateSigningKeyLogGroup",
    "RotateSigningKeyErrorsAlarm",
    "RotateSigningKeyThrottlesAlarm",
)
# The functions that read the signing key from Secrets Manager.
KEY_READERS = ("AuthorizerFunction", "TokenFunction", "UsersRegisterFunction")


def schedule() -> dict[str, Any]:
    (rotation,) = resources("AWS::SecretsManager::RotationSchedule").values()
    return rotation


def test_the_signing_key_has_a_rotation_schedule_run_by_the_rotation_function() -> None:
    rotation = schedule()
    properties = rotation["Properties"]

    assert properties["SecretId"] == {"Ref": "JwtSigningKey"}
    assert properties["RotationLambdaARN"] == {"Fn::GetAtt": ["RotateSigningKeyFunction", "Arn"]}
    assert properties["RotationRules"] == {
        "AutomaticallyAfterDays": {"Ref": "SigningKeyRotationDays"}
    }
    assert "HostedRotationLambda" not in properties
    # Setting the schedule up invokes the function (testSecret): it waits for the invoke
    # permission and the function's log group; a deploy never rotates the key.
    assert rotation["DependsOn"] == ["RotateSigningKeyPermission", "RotateSigningKeyLogGroup"]
    assert properties["RotateImmediatelyOnUpdate"] is False


def test_rotation_days_parameter_defaults_to_30_and_accepts_0() -> None:
    parameter = sam_template()["Parameters"]["SigningKeyRotationDays"]

    assert parameter["Default"] == 30
    assert parameter["MinValue"] == 0
    assert parameter["MaxValue"] == 1000  # Secrets Manager's longest rotation interval


@pytest.mark.parametrize(("days", "rotates"), [("30", True), ("1", True), ("0", False)])
def test_zero_days_turns_rotation_off(days: str, rotates: bool) -> None:
    evaluator = Evaluator(transformed(), "us-east-1", {"SigningKeyRotationDays": days})

    assert evaluator.condition("RotateSigningKey") is rotates


def test_everything_about_rotation_depends_on_the_condition() -> None:
    template = transformed()["Resources"]

    for logical_id in ROTATION_RESOURCES:
        assert template[logical_id]["Condition"] == "RotateSigningKey", logical_id


def test_secrets_manager_may_invoke_the_rotation_function() -> None:
    properties = resources("AWS::Lambda::Permission")["RotateSigningKeyPermission"]["Properties"]

    assert properties["Principal"] == "secretsmanager.amazonaws.com"
    assert properties["Action"] == "lambda:InvokeFunction"
    assert properties["FunctionName"] == {"Fn::GetAtt": ["RotateSigningKeyFunction", "Arn"]}
    assert properties["SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_rotation_function_may_touch_this_secret_only_with_the_four_rotation_calls() -> None:
    role = resources("AWS::IAM::Role")["RotateSigningKeyFunctionRole"]["Properties"]
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]

    assert statements == [
        {
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": {"Ref": "JwtSigningKey"},
        }
    ]
    assert {arn.rsplit("/", 1)[-1] for arn in role["ManagedPolicyArns"]} == {
        "AWSLambdaBasicExecutionRole",
        "AWSXrayWriteOnlyAccess",
    }


def test_rotation_function_runs_the_layers_rotation_handler() -> None:
    function = resources("AWS::Lambda::Function")["RotateSigningKeyFunction"]["Properties"]
    source = sam_template()["Resources"]["RotateSigningKeyFunction"]["Properties"]

    assert source["CodeUri"] == "functions/rotate_signing_key/"
    assert function["Handler"] == "app.lambda_handler"
    assert "Events" not in source  # invoked by Secrets Manager only: no route


def test_key_readers_get_the_key_cache_setting() -> None:
    parameter = sam_template()["Parameters"]["SigningKeyCacheSeconds"]
    functions = resources("AWS::Lambda::Function")

    assert parameter["Default"] == 300
    for logical_id in KEY_READERS:
        variables = functions[logical_id]["Properties"]["Environment"]["Variables"]
        assert variables["SIGNING_KEY_CACHE_SECONDS"] == {"Ref": "SigningKeyCacheSeconds"}
