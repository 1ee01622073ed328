"""template.yaml as SAM CLI reads it: the single source of the tables' schema and of the
list of functions.

The template uses the AWS::LanguageExtensions transform: one Fn::ForEach gives every function
its log group and alarms. `expanded_template()` is the template with that loop expanded by SAM
CLI's own language-extension processing (samcli.lib.cfn_language_extensions, the processors
`sam build --language-extensions` runs first), as SAM's translator receives it from
CloudFormation. `load_template()` adds SAM's Globals merge (SAM's own Globals plugin): every
function carries its full properties, Handler and environment included. Tests (moto), the local
stack (DynamoDB Local, the functions, the routes), bench and `make sam-local-env` read it from
here, so none of them can drift from what `sam deploy` creates.

Only the expanding steps of SAM CLI's pipeline run: its Fn::ForEach processor, then its Ref
resolver for a Ref whose target is an intrinsic (`Ref: !Sub "${Stem}Function"` in the loop).
The rest of that pipeline (`process_template`, `expand_language_extensions`) also replaces every
parameter with its default and Fn::Sub with plain text; the local stack and the deploy checks
need the parameters as parameters, so they get the template with its intrinsics intact.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

# SAM CLI and SAM's translator ship no type information.
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]
from samcli.lib.cfn_language_extensions.api import (  # type: ignore[import-untyped]
    create_default_intrinsic_resolver,
)
from samcli.lib.cfn_language_extensions.models import (  # type: ignore[import-untyped]
    ResolutionMode,
    TemplateProcessingContext,
)
from samcli.lib.cfn_language_extensions.pipeline import (  # type: ignore[import-untyped]
    ProcessingPipeline,
)
from samcli.lib.cfn_language_extensions.processors import (  # type: ignore[import-untyped]
    ForEachProcessor,
    TemplateParsingProcessor,
)
from samcli.lib.cfn_language_extensions.resolvers import (  # type: ignore[import-untyped]
    FnRefResolver,
    FnSubResolver,
    IntrinsicResolver,
)
from samtranslator.plugins.globals.globals_plugin import (  # type: ignore[import-untyped]
    GlobalsPlugin,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"

# The properties of AWS::DynamoDB::Table that describe the schema, as create_table takes them.
# Others are left out: TimeToLiveSpecification, for one, is not a create_table argument, and
# DynamoDB Local (like moto) never deletes expired items anyway; the functions treat an item
# whose expires_at has passed as absent, so expiry behaves the same on every backend.
_SCHEMA_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)


@cache
def expanded_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template with its Fn::ForEach loops expanded, Globals still apart."""
    context = TemplateProcessingContext(
        fragment=plain(cfn_yaml.load(str(path))), resolution_mode=ResolutionMode.PARTIAL
    )
    pipeline = ProcessingPipeline(
        [
            TemplateParsingProcessor(),
            # The resolver only serves a loop whose list is a parameter (a CommaDelimitedList).
            ForEachProcessor(intrinsic_resolver=create_default_intrinsic_resolver(context)),
        ]
    )
    expanded: dict[str, Any] = _resolve_computed_refs(pipeline.process_template(context))
    return expanded


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The expanded template with Globals merged into each function, as SAM merges them
    (a function's scalar wins, its Layers and variables add to the global ones)."""
    template = copy.deepcopy(expanded_template(path))
    GlobalsPlugin().on_before_transform_template(template)
    return template


def _resolve_computed_refs(value: Any) -> Any:
    """`{"Ref": {"Fn::Sub": "AuthorizerFunction"}}` as `{"Ref": "AuthorizerFunction"}`,
    resolved by SAM CLI's own Ref and Fn::Sub resolvers (the language extensions accept an
    intrinsic as Ref's target). The resolvers see no parameters, so they change nothing else."""
    resolver = IntrinsicResolver(TemplateProcessingContext(fragment={}))
    resolver.register_resolver(FnSubResolver).register_resolver(FnRefResolver)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1 and isinstance(node.get("Ref"), dict):
                return resolver.resolve_value(node)
            return {key: walk(item) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(value)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def function_keys(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Each function's logical id with its folder under functions/ (CodeUri functions/<key>/),
    in the template's order: {"AuthorizerFunction": "authorizer", ...}."""
    template = template or load_template()
    keys: dict[str, str] = {}
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        code_uri = PurePosixPath(str(resource["Properties"]["CodeUri"]))
        if code_uri.parent != PurePosixPath("functions"):
            raise ValueError(f"{logical_id}: CodeUri {code_uri} is not functions/<key>/")
        keys[logical_id] = code_uri.name
    return keys


def table_schemas(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """create_table arguments (without TableName) for every table, by logical id."""
    template = template or load_template()
    return {
        logical_id: {
            name: plain(resource["Properties"][name])
            for name in _SCHEMA_PROPERTIES
            if name in resource["Properties"]
        }
        for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items()
    }


def create_tables(client: Any, names: dict[str, str] | None = None) -> dict[str, str]:
    """Create every table of the template that does not exist yet.

    `names` maps logical ids to table names (default: the logical id itself);
    returns that mapping for all tables.
    """
    names = dict(names or {})
    existing = set(client.list_tables().get("TableNames", []))
    for logical_id, schema in table_schemas().items():
        table_name = names.setdefault(logical_id, logical_id)
        if table_name not in existing:
            client.create_table(TableName=table_name, **schema)
            client.get_waiter("table_exists").wait(TableName=table_name)
    return names


def plain(value: Any) -> Any:
    """cfn-lint's node classes as plain dicts, lists and strings (botocore validates types)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
