"""What the benchmarks share: the functions under test and their event files."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = PROJECT_ROOT / "events"
RESULTS_PATH = PROJECT_ROOT / "bench" / "results.json"
WORK_DIR = PROJECT_ROOT / "bench" / ".work"
TOKEN_PLACEHOLDER = "{{ACCESS_TOKEN}}"  # noqa: S105 (a placeholder in events/)


@dataclass(frozen=True, slots=True)
class BenchFunction:
    name: str  # the key in results.json
    logical_id: str  # the template's resource
    module: str  # the handler module, importable with the project's PYTHONPATH
    event: str  # events/<event>.json


FUNCTIONS = (
    BenchFunction("register", "RegisterFunction", "functions.register.app", "register_success"),
    BenchFunction("token", "TokenFunction", "functions.token.app", "token_success"),
    BenchFunction("store", "StoreItemFunction", "functions.store_item.app", "store_item_success"),
    BenchFunction("get", "GetItemFunction", "functions.get_item.app", "get_item_success"),
    BenchFunction(
        "update", "UpdateItemFunction", "functions.update_item.app", "update_item_success"
    ),
    BenchFunction(
        "delete", "DeleteItemFunction", "functions.delete_item.app", "delete_item_success"
    ),
    BenchFunction("list", "ListItemsFunction", "functions.list_items.app", "list_items_prefix"),
    BenchFunction(
        "authorizer", "AuthorizerFunction", "functions.authorizer.app", "authorizer_valid"
    ),
    BenchFunction(
        "users_register",
        "UsersRegisterFunction",
        "functions.users_register.app",
        "users_register_success",
    ),
)


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


def median(values: list[float]) -> float:
    return float(statistics.median(values))


class FakeContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
