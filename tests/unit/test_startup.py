"""The collector paused for a cold start (lockbox/core/startup.py): each case runs in a
fresh process, as the pause starts with the layer's first import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from lockbox_local.template import PROJECT_ROOT

PROGRAM = """
import gc, json, sys
import app
from lockbox_local.events import load_event
from lockbox_local.worker import LambdaContext
seen = {"collecting_after_import": gc.isenabled()}
event = load_event(sys.argv[1])
try:
    app.lambda_handler(event, LambdaContext.for_function("startup", 128))
except Exception:
    pass  # the first call may fail (no DynamoDB here): collection resumes all the same
seen["collecting_after_first_call"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count() > 0
print(json.dumps(seen))
"""


def started(function: str, event: str, *, in_lambda: bool) -> dict[str, Any]:
    """What a fresh process importing the function's handler and calling it once sees of
    the collector, in a Lambda environment or not."""
    env = {
        "POWERTOOLS_SERVICE_NAME": "lockbox-api",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing answers: no AWS call leaves
        "AWS_MAX_ATTEMPTS": "1",
        "PYTHONPATH": ":".join([str(PROJECT_ROOT / "functions" / function), *sys.path]),
    }
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "startup"
    answer = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
        [sys.executable, "-c", PROGRAM, event],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return seen


def test_in_lambda_the_collector_waits_for_the_first_call_to_answer() -> None:
    """Given a Lambda environment, importing a function leaves the collector paused; once
    its first call has answered, the start's objects are frozen and collection is on."""
    assert started("get_item", "get_item_success", in_lambda=True) == {
        "collecting_after_import": False,
        "collecting_after_first_call": True,
        "frozen": True,
    }


def test_the_authorizer_resumes_collection_after_its_first_decision() -> None:
    assert started("authorizer", "authorizer_garbage", in_lambda=True) == {
        "collecting_after_import": False,
        "collecting_after_first_call": True,
        "frozen": True,
    }


def test_outside_lambda_importing_the_layer_leaves_the_collector_alone() -> None:
    """Given no Lambda environment (tests, tools), the collector is never paused and
    nothing is frozen."""
    assert started("get_item", "get_item_success", in_lambda=False) == {
        "collecting_after_import": True,
        "collecting_after_first_call": True,
        "frozen": False,
    }
