"""The shared tracer: the X-Ray SDK only when AWS calls are traced (TRACE_AWS_CALLS).

Each case runs in a fresh process: the tracer is made at import, and Powertools' Tracer
patches botocore for the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

PROGRAM = """
import json, sys
from lockbox.core import observability
def handler(event, context):
    return "answered"
wrapped = observability.traced(handler)
print(json.dumps({
    "sdk_imported": "aws_xray_sdk" in sys.modules,
    "wrapped": wrapped is not handler,
    "answer": wrapped({}, None),
}))
"""


def observed(trace_aws_calls: str) -> dict[str, Any]:
    """What a fresh process with this TRACE_AWS_CALLS sees of the shared tracer."""
    env = {
        "TRACE_AWS_CALLS": trace_aws_calls,
        "POWERTOOLS_SERVICE_NAME": "lockbox-api",
        "PYTHONPATH": ":".join(sys.path),
    }
    answer = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    )
    seen: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return seen


def test_without_tracing_of_aws_calls_the_sdk_is_never_imported_nor_the_handler_wrapped() -> None:
    assert observed("false") == {"sdk_imported": False, "wrapped": False, "answer": "answered"}


def test_with_tracing_of_aws_calls_the_handler_runs_in_powertools_tracer() -> None:
    """Outside Lambda, Powertools records nothing, but the SDK is loaded and the handler
    is its wrapper, which still answers."""
    assert observed("true") == {"sdk_imported": True, "wrapped": True, "answer": "answered"}
