"""template.yaml as CloudFormation receives it: transformed by SAM's own translator, offline.

CloudFormation runs the template's transforms in order: AWS::LanguageExtensions first, then
SAM's. Here the first is SAM CLI's own expansion of the template's Fn::ForEach loop
(lockbox_local.template.expanded_template), the second SAM's Translator, which `sam validate`
runs too. Local CodeUri/ContentUri become S3 URIs (as `sam package` would make them) and no
managed policy is looked up, so no AWS credentials or network are needed. `evaluate` resolves
the few intrinsic functions the checks need for a given region and parameter values, the way
CloudFormation would.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from lockbox_local.template import expanded_template

NO_VALUE = object()
REGION = "us-east-1"
_SUB_VARIABLE = re.compile(r"\$\{([^}!]*)\}")


def sam_template() -> dict[str, Any]:
    """The template as SAM's transform receives it: its language extensions expanded."""
    return expanded_template()


def packaged_template() -> dict[str, Any]:
    """A copy with the local code locations replaced by S3 URIs."""
    template = copy.deepcopy(sam_template())
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://bucket/function.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://bucket/layer.zip"
    return template


@cache
def transformed() -> dict[str, Any]:
    """The CloudFormation template SAM produces from template.yaml (parameter defaults)."""
    return transformed_with({})


def resources(resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in transformed()["Resources"].items()
        if resource["Type"] == resource_type
    }


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
    }


class Evaluator:
    """Ref, Fn::Sub, Fn::If, Fn::FindInMap and conditions for one region and parameter set."""

    def __init__(
        self, template: Mapping[str, Any], region: str, parameters: Mapping[str, str] | None = None
    ) -> None:
        self.template = template
        self.values = {
            **parameter_defaults(template),
            **(parameters or {}),
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": "lockbox-api",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        return self._truth(self.template["Conditions"][name])

    def _truth(self, value: Any) -> bool:
        (function, argument), *_ = value.items()
        if function == "Fn::Equals":
            left, right = (str(self.evaluate(item)) for item in argument)
            return left == right
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Condition":
            return self.condition(argument)
        raise ValueError(f"unsupported condition {value!r}")

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, Mapping) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self.values[argument]
            if function == "Fn::If":
                name, if_true, if_false = argument
                return self.evaluate(if_true if self.condition(name) else if_false)
            if function == "Fn::FindInMap":
                mapping, first, second = (self.evaluate(item) for item in argument)
                return self.template["Mappings"][mapping][first][second]
            if function == "Fn::Sub":
                text, variables = argument if isinstance(argument, list) else (argument, {})
                local = {name: self.evaluate(item) for name, item in variables.items()}
                return _SUB_VARIABLE.sub(
                    lambda match: str(local.get(match[1], self.values.get(match[1]))), text
                )
        if isinstance(value, Mapping):
            return {key: self.evaluate(item) for key, item in value.items()}
        if isinstance(value, list):
            return [item for item in map(self.evaluate, value) if item is not NO_VALUE]
        return value


def transformed_with(parameters: Mapping[str, str]) -> dict[str, Any]:
    """The transform given parameter values, as CloudFormation passes a deploy's values to
    SAM's transform (it resolves some of them, e.g. in DeploymentPreference, there)."""
    # The region only names things (ARNs, pseudo parameters): a session makes no call.
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(
        managed_policy_map=None, sam_parser=Parser(), plugins=[], boto_session=session
    )
    output: dict[str, Any] = translator.translate(
        sam_template=packaged_template(),
        parameter_values=dict(parameters),
        get_managed_policy_map=dict,
    )
    return output
