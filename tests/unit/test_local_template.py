"""lockbox_local.template: template.yaml as SAM CLI reads it, loop expanded, Globals merged,
and the function list derived from it."""

from __future__ import annotations

from typing import Any

import pytest

from lockbox_local.template import (
    PROJECT_ROOT,
    expanded_template,
    function_keys,
    load_template,
    resources_of_type,
)

FUNCTION_TYPE = "AWS::Serverless::Function"


def test_the_monitoring_loop_is_expanded_into_plain_resources() -> None:
    resources = load_template()["Resources"]

    assert not [key for key in resources if key.startswith("Fn::ForEach")]
    assert resources["AuthorizerLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${AuthorizerFunction}"
    }
    (dimension,) = resources["TokenThrottlesAlarm"]["Properties"]["Dimensions"]
    assert dimension == {"Name": "FunctionName", "Value": {"Ref": "TokenFunction"}}


def test_parameters_stay_parameters() -> None:
    """Nothing is resolved to a parameter's default: the local stack and the deploy checks
    set parameters themselves."""
    resources = expanded_template()["Resources"]

    assert resources["RegisterFunction"]["Properties"]["MemorySize"] == {"Ref": "BcryptMemorySize"}
    assert resources["AuthorizerLogGroup"]["Properties"]["RetentionInDays"] == {
        "Ref": "LogRetentionDays"
    }
    assert resources["CommonLayer"]["Properties"]["LayerName"] == {
        "Fn::Sub": "${AWS::StackName}-common"
    }


def test_globals_are_merged_into_every_function_as_sam_merges_them() -> None:
    template = load_template()
    global_function = expanded_template()["Globals"]["Function"]

    assert "Globals" not in template
    for logical_id, function in resources_of_type(template, FUNCTION_TYPE).items():
        properties = function["Properties"]
        assert properties["Handler"] == global_function["Handler"], logical_id
        assert properties["Layers"][0] == {"Ref": "CommonLayer"}, logical_id
        variables = properties["Environment"]["Variables"]
        assert variables.items() >= global_function["Environment"]["Variables"].items()
    token = template["Resources"]["TokenFunction"]["Properties"]
    assert token["MemorySize"] == {"Ref": "BcryptMemorySize"}  # its own value wins
    # No function adds a layer of its own: the common layer alone, in every region.
    assert token["Layers"] == [{"Ref": "CommonLayer"}]


def test_function_keys_name_each_functions_folder() -> None:
    keys = function_keys()

    assert keys["AuthorizerFunction"] == "authorizer"
    assert keys["UsersRegisterFunction"] == "users_register"
    assert set(keys) == set(resources_of_type(load_template(), FUNCTION_TYPE))
    assert set(keys.values()) == {
        path.parent.name for path in (PROJECT_ROOT / "functions").glob("*/app.py")
    }


def test_function_keys_refuse_code_outside_the_functions_folder() -> None:
    template: dict[str, Any] = {
        "Resources": {"OddFunction": {"Type": FUNCTION_TYPE, "Properties": {"CodeUri": "src/odd/"}}}
    }

    with pytest.raises(ValueError, match="OddFunction"):
        function_keys(template)
