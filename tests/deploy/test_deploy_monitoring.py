"""Each function's log group and its Errors and Throttles alarms, as CloudFormation receives
them after the template's Fn::ForEach loop and SAM's transform: one of each per function of
the template, none missing, none extra."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from lockbox_local.template import TEMPLATE_PATH, function_keys, load_template
from tests.deploy.sam_transform import resources, sam_template

FUNCTIONS = sorted(function_keys(load_template()))
LAMBDA_METRICS = ("Errors", "Throttles")


def log_groups_by_function() -> Counter[str]:
    """How many log groups carry each /aws/lambda/${<logical id>} name."""
    found: Counter[str] = Counter()
    for group in resources("AWS::Logs::LogGroup").values():
        name = group["Properties"]["LogGroupName"]
        text = name.get("Fn::Sub", "") if isinstance(name, dict) else ""
        if text.startswith("/aws/lambda/${") and text.endswith("}"):
            found[text.removeprefix("/aws/lambda/${").removesuffix("}")] += 1
    return found


def lambda_alarms() -> dict[str, dict[str, Any]]:
    """The alarms on the functions' Errors and Throttles (IteratorAge: test_deploy_failures)."""
    return {
        logical_id: alarm
        for logical_id, alarm in resources("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"].get("Namespace") == "AWS/Lambda"
        and alarm["Properties"].get("MetricName") in LAMBDA_METRICS
    }


def alarms_by_function(metric: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for alarm in lambda_alarms().values():
        properties = alarm["Properties"]
        if properties["MetricName"] == metric:
            (dimension,) = properties["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            found[dimension["Value"]["Ref"]] += 1
    return found


def test_the_template_has_the_functions_the_folders_hold() -> None:
    """The function list the checks below count against is the template's own."""
    assert len(FUNCTIONS) >= 19
    assert "AuthorizerFunction" in FUNCTIONS
    assert "RotateSigningKeyFunction" in FUNCTIONS


def test_every_function_has_exactly_one_log_group() -> None:
    assert log_groups_by_function() == Counter(FUNCTIONS)


@pytest.mark.parametrize("metric", LAMBDA_METRICS)
def test_every_function_has_exactly_one_alarm_on_the_metric(metric: str) -> None:
    assert alarms_by_function(metric) == Counter(FUNCTIONS)


def test_the_lambda_alarms_are_the_functions_alarms_and_nothing_else() -> None:
    assert len(lambda_alarms()) == len(LAMBDA_METRICS) * len(FUNCTIONS)


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_monitoring_keeps_its_names_retention_thresholds_and_condition(function_id: str) -> None:
    """Given a function, its log group and alarms keep the logical ids, retention, alarm
    settings and condition they had before the loop generated them."""
    stem = function_id.removesuffix("Function")
    function = resources("AWS::Lambda::Function")[function_id]
    group = resources("AWS::Logs::LogGroup")[f"{stem}LogGroup"]

    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group.get("Condition") == function.get("Condition")
    for metric in LAMBDA_METRICS:
        alarm = lambda_alarms()[f"{stem}{metric}Alarm"]
        properties = alarm["Properties"]
        assert alarm.get("Condition") == function.get("Condition"), metric
        assert properties["MetricName"] == metric
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert (properties["Statistic"], properties["Period"]) == ("Sum", 300)
        assert (properties["EvaluationPeriods"], properties["Threshold"]) == (1, 0)
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        assert properties["TreatMissingData"] == "notBreaching"
        assert properties["AlarmActions"] == properties["OKActions"] == [{"Ref": "AlarmTopic"}]


def language_extension_names(value: Any) -> set[str]:
    """The language extensions a part of the raw template uses."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("Fn::ForEach::"):
                found.add("Fn::ForEach")
            elif key in ("Fn::Length", "Fn::ToJsonString"):
                found.add(str(key))
            elif key == "Fn::FindInMap" and len(item) == 4:
                found.add("Fn::FindInMap with DefaultValue")
            elif key == "Ref" and isinstance(item, dict):
                found.add("an intrinsic as Ref's target")
            found |= language_extension_names(item)
    elif isinstance(value, list):
        for item in value:
            found |= language_extension_names(item)
    return found


def test_the_template_uses_only_the_language_extensions_the_readers_expand() -> None:
    """lockbox_local.template runs SAM CLI's Fn::ForEach processor and its Ref resolver; a
    template that used Fn::Length, Fn::ToJsonString or a FindInMap default would need more."""
    raw = cfn_yaml.load(str(TEMPLATE_PATH))

    assert raw["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    assert language_extension_names(raw) == {"Fn::ForEach", "an intrinsic as Ref's target"}
    assert language_extension_names(sam_template()) == set()
    assert json.dumps(sam_template()).count("${Stem}") == 0
