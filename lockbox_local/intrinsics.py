"""CloudFormation intrinsic functions resolved to the values the local stack uses.

The template reaches the runner as cfn-lint parsed it (`!Ref X` is `{"Ref": "X"}`); this
module only evaluates those functions: parameters take their defaults (or overrides),
resources take local identities (a table's name, a secret's id), pseudo parameters fixed
local values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockbox_local.template import plain

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "lockbox-local"
API_ID = "local"

PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """The template uses something the local runner cannot evaluate."""


class _NoValue:
    """AWS::NoValue: the property is removed."""


NO_VALUE = _NoValue()


@dataclass(frozen=True, slots=True)
class LocalResource:
    """What `Ref` and `Fn::GetAtt` give for one resource in the local stack."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def local_resource(logical_id: str, resource_type: str) -> LocalResource:
    """The local identity of a resource: names the local services know it by."""
    match resource_type:
        case "AWS::DynamoDB::Table":
            # create_tables names each table after its logical id.
            return LocalResource(logical_id, {"Arn": _arn("dynamodb", f"table/{logical_id}")})
        case "AWS::SecretsManager::Secret":
            arn = _arn("secretsmanager", f"secret:{logical_id}")
            return LocalResource(arn, {"Id": arn, "Arn": arn})
        case "AWS::Serverless::Function" | "AWS::Lambda::Function":
            return LocalResource(logical_id, {"Arn": _arn("lambda", f"function:{logical_id}")})
        case "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi":
            return LocalResource(API_ID, {"RootResourceId": "root"})
        case "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion":
            arn = _arn("lambda", f"layer:{logical_id}:1")
            return LocalResource(arn, {"Arn": arn})
        case _:
            return LocalResource(logical_id, {"Arn": _arn("local", logical_id)})


def parameter_override(text: str) -> tuple[str, str]:
    """A `--parameter Name=Value` option, as argparse's type: one template parameter."""
    import argparse

    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def add_parameter_option(parser: Any) -> None:
    """The `--parameter NAME=VALUE` option (repeatable) of the local runner's commands."""
    parser.add_argument(
        "--parameter",
        type=parameter_override,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter's default, e.g. --parameter BcryptCost=10",
    )


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value: the override if given, else its Default."""
    declared = template.get("Parameters", {}) or {}
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = scalar_text(plain(spec["Default"]))
        else:
            raise TemplateError(f"parameter {name} has no Default: pass --parameter {name}=...")
    return values


def scalar_text(value: Any) -> str:
    """A scalar as CloudFormation passes it on: numbers as digits, booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"expected a scalar value, got {value!r}")


class Resolver:
    """Evaluates Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::FindInMap, Fn::Join and friends."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self._template = template
        self._parameters = dict(parameters)
        self._resources = {
            logical_id: local_resource(logical_id, str(resource.get("Type", "")))
            for logical_id, resource in (template.get("Resources", {}) or {}).items()
        }
        self._conditions: dict[str, bool] = {}

    def ref(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._resources:
            return self._resources[name].ref
        raise TemplateError(f"Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self._resources.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} has no local value")
        return resource.attributes[attribute]

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function evaluated (NO_VALUE entries dropped)."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                (key, argument), *_ = value.items()
                if key == "Ref" or str(key).startswith("Fn::"):
                    return self._function(str(key), argument)
            resolved = {str(k): self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        return plain(value)

    def resolve_text(self, value: Any) -> str:
        return scalar_text(self.resolve(value))

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self._template.get("Conditions", {}) or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = self._truth(conditions[name])
        return self._conditions[name]

    def _truth(self, value: Any) -> bool:
        if isinstance(value, Mapping) and len(value) == 1:
            (key, argument), *_ = value.items()
            match key:
                case "Condition":
                    return self.condition(str(argument))
                case "Fn::Equals":
                    left, right = (scalar_text(self.resolve(item)) for item in argument)
                    return left == right
                case "Fn::Not":
                    return not self._truth(argument[0])
                case "Fn::And":
                    return all(self._truth(item) for item in argument)
                case "Fn::Or":
                    return any(self._truth(item) for item in argument)
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return resolved
        raise TemplateError(f"cannot evaluate condition {value!r}")

    def _function(self, name: str, argument: Any) -> Any:
        match name:
            case "Ref":
                if argument == "AWS::NoValue":
                    return NO_VALUE
                return self.ref(str(argument))
            case "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else list(argument)
                return self.get_att(str(parts[0]), self.resolve_text(parts[1]))
            case "Fn::Sub":
                return self._sub(argument)
            case "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.condition(str(condition)) else if_false)
            case "Fn::FindInMap":
                mapping, first, second = (self.resolve_text(item) for item in argument)
                try:
                    return plain(self._template["Mappings"][mapping][first][second])
                except KeyError:
                    raise TemplateError(f"Fn::FindInMap {mapping}/{first}/{second}") from None
            case "Fn::Join":
                delimiter, items = argument
                return str(delimiter).join(scalar_text(item) for item in self.resolve(items))
            case "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve_text(index))]
            case "Fn::Split":
                delimiter, text = argument
                return self.resolve_text(text).split(str(delimiter))
            case _:
                raise TemplateError(f"{name} is not supported by the local runner")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = str(argument[0]), dict(argument[1])
        else:
            text, variables = str(argument), {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return self.resolve_text(variables[name])
            if "." in name and name.split(".", 1)[0] in self._resources:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, text)
