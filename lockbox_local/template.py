"""template.yaml read with cfn-lint's loader: the single source of the tables' schema.

Tests (moto) and the local stack (DynamoDB Local) create their tables from here, so
neither can drift from what `sam deploy` creates.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"

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
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


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
