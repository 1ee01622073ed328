"""Cold start: a fresh process per run that imports a handler and handles its event once.

Each process is started the way Lambda starts one: PYTHONPATH is the function's code
directory plus the layer (the layer's source and its dependencies, installed for this
machine), the environment is the one template.yaml gives the function, plus what the
Lambda runtime sets (LAMBDA_TASK_ROOT, a trace header, ...). The floor is a process that
imports boto3, creates a DynamoDB client and makes one GetItem against the same DynamoDB
Local. Runs of all functions and the floor are interleaved, so load on the machine
touches them alike; the figure is the median wall time from spawn to the handler's return.
The child's CPU time (user and system) is recorded too: on a shared machine, wall times
grow with other work and their ratio with it; the CPU time ratio hardly moves.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.common import (
    FUNCTIONS,
    PROJECT_ROOT,
    TOKEN_PLACEHOLDER,
    BenchFunction,
)
from lockbox_local import worker as lambda_context_module
from lockbox_local.events import load_event

RUNS = 11
CONTEXT_MODULE = str(Path(lambda_context_module.__file__))
LAYER_SOURCE = PROJECT_ROOT / "layers" / "common"
TRACE_HEADER = "Root=1-6740c5a1-5f1e2d3c4b5a69788796a5b4;Parent=53995c3f42cd8ad8;Sampled=1"

# The child: what Lambda's runtime does for one cold invocation, and nothing more. Its
# context is lockbox_local's LambdaContext, loaded from its file (a standard-library-only
# module: the child's path holds just the function, the layer and its dependencies).
FUNCTION_CHILD = """
import importlib, importlib.util, json, sys, time
module, event_path, context_path = sys.argv[1], sys.argv[2], sys.argv[3]
handler = importlib.import_module(module).lambda_handler
spec = importlib.util.spec_from_file_location("lambda_context", context_path)
context_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(context_module)
with open(event_path) as f:
    event = json.load(f)
called = time.perf_counter()
result = handler(event, context_module.LambdaContext.for_function("cold", 1024))
first_call_ms = (time.perf_counter() - called) * 1000
status = result.get("statusCode", 200) if isinstance(result, dict) else 200
sys.__stdout__.write("DONE %s %s %.3f\\n" % (status, "boto3" in sys.modules, first_call_ms))
sys.__stdout__.flush()
"""

FLOOR_CHILD = """
import sys
import boto3
client = boto3.client("dynamodb")
client.get_item(TableName=sys.argv[1], Key={"user_id": {"S": "floor"}, "key": {"S": "floor"}})
sys.stdout.write("DONE 200\\n")
sys.stdout.flush()
"""


def _timed_run(
    code: str, args: list[str], env: Mapping[str, str]
) -> tuple[float, float, list[str]]:
    """Milliseconds from spawn until the child reports, the CPU milliseconds (user and
    system) the child used in all, and what it reported (its status first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 (this interpreter, the bench's own code)
        [sys.executable, "-S", "-c", code, *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    while line and not line.startswith("DONE"):  # the function's own log lines come first
        line = child.stdout.readline()
    elapsed = (time.perf_counter() - started) * 1000
    _, stderr = child.communicate(timeout=30)
    # The child's own CPU time (user and system), counted once it has been waited for:
    # unlike wall time it hardly grows when other work shares the machine, so its ratio
    # to the floor's stays comparable between runs on a busy machine.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if not line.startswith("DONE"):
        raise RuntimeError(f"cold-start child failed: {stderr[-2000:]}")
    return elapsed, cpu_ms, line.split()[1:]


def _lambda_environment(
    base: Mapping[str, str], function: BenchFunction, code_dir: Path, deps_dir: Path
) -> dict[str, str]:
    return {
        **base,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(LAYER_SOURCE), str(deps_dir)]),
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "_HANDLER": "app.lambda_handler",
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "BCRYPT_COST": "4",  # cold runs measure start-up, not hashing
    }


def measure(
    environments: Mapping[str, Mapping[str, str]],
    code_dirs: Mapping[str, Path],
    deps_dir: Path,
    floor_environment: Mapping[str, str],
    prepare: Callable[[BenchFunction, dict[str, Any]], dict[str, Any]],
    items_table: str,
) -> dict[str, Any]:
    """Median cold start per function and of the floor; `prepare` readies each run's event."""
    samples: dict[str, list[float]] = {f.name: [] for f in FUNCTIONS}
    cpu_samples: dict[str, list[float]] = {f.name: [] for f in FUNCTIONS}
    # The handler's first call alone, after its imports: the part of a cold start that
    # SnapStart cannot take into its snapshot (it snapshots the INIT, the imports).
    first_call_samples: dict[str, list[float]] = {f.name: [] for f in FUNCTIONS}
    floor: list[float] = []
    floor_cpu: list[float] = []
    floor_env = {**floor_environment, "PYTHONPATH": str(deps_dir)}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(RUNS):
            floor_ms, floor_cpu_ms, _ = _timed_run(FLOOR_CHILD, [items_table], floor_env)
            floor.append(floor_ms)
            floor_cpu.append(floor_cpu_ms)
            for function in FUNCTIONS:
                event = prepare(function, load_event(function.event))
                event_path = Path(scratch) / f"{uuid.uuid4().hex}.json"
                event_path.write_text(json.dumps(event))
                env = _lambda_environment(
                    environments[function.logical_id],
                    function,
                    code_dirs[function.logical_id],
                    deps_dir,
                )
                module = "app"
                elapsed, cpu_ms, (status, _, first_call) = _timed_run(
                    FUNCTION_CHILD, [module, str(event_path), CONTEXT_MODULE], env
                )
                if status not in {"200", "201"}:
                    raise RuntimeError(f"{function.name} cold run answered {status}")
                samples[function.name].append(elapsed)
                cpu_samples[function.name].append(cpu_ms)
                first_call_samples[function.name].append(float(first_call))
    floor_ms = statistics.median(floor)
    floor_cpu_ms = statistics.median(floor_cpu)
    return {
        "floor_ms": round(floor_ms, 1),
        "floor_cpu_ms": round(floor_cpu_ms, 1),
        "runs": RUNS,
        "functions": {
            name: {
                "ms": round(statistics.median(values), 1),
                "ratio": round(statistics.median(values) / floor_ms, 2),
                "cpu_ms": round(statistics.median(cpu_samples[name]), 1),
                "cpu_ratio": round(statistics.median(cpu_samples[name]) / floor_cpu_ms, 2),
                "first_call_ms": round(statistics.median(first_call_samples[name]), 1),
            }
            for name, values in samples.items()
        },
    }


def authorizer_event(event: dict[str, Any], token: str) -> dict[str, Any]:
    if event.get("authorizationToken") == f"Bearer {TOKEN_PLACEHOLDER}":
        event["authorizationToken"] = f"Bearer {token}"
    return event
