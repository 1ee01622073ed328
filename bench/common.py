"""What the benchmarks share: the functions under test, their event files, and the
Lambda context their direct calls pass (lockbox_local's one LambdaContext)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockbox_local.template import function_keys
from lockbox_local.worker import LambdaContext

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = PROJECT_ROOT / "bench" / ".work"
TOKEN_PLACEHOLDER = "{{ACCESS_TOKEN}}"  # noqa: S105 (a placeholder in events/)
REFRESH_PLACEHOLDER = "{{REFRESH_TOKEN}}"


@dataclass(frozen=True, slots=True)
class BenchFunction:
    name: str  # the function's key: its folder under functions/, and its key in results.json
    logical_id: str  # the template's resource
    module: str  # the handler module, importable with the project's PYTHONPATH
    event: str  # events/<event>.json


# The event each function is measured with, where it is not <key>_success.
_BENCH_EVENTS = {
    "list_items": "list_items_prefix",  # a prefix and a limit: a page with a cursor
    "authorizer": "authorizer_valid",
    "purge_items": "purge_items_deleted_user",
}
# Run by Secrets Manager every few weeks, never on a request's path; and the mail sender,
# fed by the stream, whose time is SES's (the bench runs no SES stand-in; the e2e mail
# tests send through one).
_NOT_BENCHED = {"rotate_signing_key", "send_mail"}


def bench_functions() -> tuple[BenchFunction, ...]:
    """Every function of the template (its order), each with the event it is measured with."""
    return tuple(
        BenchFunction(
            key, logical_id, f"functions.{key}.app", _BENCH_EVENTS.get(key, f"{key}_success")
        )
        for logical_id, key in function_keys().items()
        if key not in _NOT_BENCHED
    )


FUNCTIONS = bench_functions()


def bench_context() -> LambdaContext:
    """The context a benchmark passes when it calls a handler itself."""
    return LambdaContext.for_function("bench", memory_mb=1024)
