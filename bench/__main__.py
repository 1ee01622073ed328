"""`make bench`: cold start, warm overhead, DynamoDB requests per call, listing pages and
bcrypt cost, merged with the latest load and fuzz figures into bench/results.json.

Usage: python -m bench [--deps DIR]   (the Makefile installs DIR with the layer's
requirements for this machine, the way `sam build` does for Lambda)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from bench import bcrypt_cost, cold, listing, requests_per_call, warm
from bench.common import FUNCTIONS, WORK_DIR, BenchFunction, bench_context
from bench.results import RESULTS_PATH, measured_at, update_results
from lockbox_local.api import read_app
from lockbox_local.ports import free_port
from lockbox_local.services import LocalServices
from lockbox_local.template import load_template

BENCH_USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"  # the caller in the data events
STORED_KEY = "notes"


def lambda_like(environment: dict[str, str]) -> dict[str, str]:
    """The local stack turns tracing and metrics off; in Lambda both are on."""
    return {
        name: value
        for name, value in environment.items()
        if name not in {"POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"}
    }


class Preparer:
    """Readies each run's event: fresh names where a call creates, stored keys where it needs one."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    def __call__(self, function: BenchFunction, event: dict[str, Any]) -> dict[str, Any]:
        from lockbox import item_table

        unique = uuid.uuid4().hex[:12]
        if function.name == "register":
            body = json.loads(event["body"])
            body.update(username=f"bench_{unique}", email=f"bench_{unique}@example.com")
            event["body"] = json.dumps(body)
        elif function.name == "users_register":
            body = json.loads(event["body"])
            body["email"] = f"member_{unique}@example.com"
            event["body"] = json.dumps(body)
        elif function.name == "store":
            body = json.loads(event["body"])
            body["key"] = f"note {unique}"
            event["body"] = json.dumps(body)
        elif function.name in {"get", "update", "delete", "list"}:
            item_table.put_new_item(BENCH_USER_ID, STORED_KEY, '{"text":"buy milk"}', None)
        return cold.authorizer_event(event, self.access_token)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--deps", type=Path, default=WORK_DIR / "deps")
    args = parser.parse_args()
    started = time.perf_counter()

    # DynamoDB Local (in memory, with the template's tables) and the secrets extension
    # stand-in: the local stack's services, without its gateway and workers.
    services = LocalServices(free_port())
    try:
        services.start_dynamodb()  # Java boots while the template is read
        template = load_template()
        app = read_app(template)
        services.start(template, app.resolver)
        environments = {
            function_id: lambda_like(environment)
            for function_id, environment in services.function_environments(app.functions).items()
        }
        # This process runs the handlers too (requests count, warm overhead): same settings.
        os.environ.update(environments["RegisterFunction"])
        os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "BCRYPT_COST": "4"})
        access_token = seed_caller()
        prepare = Preparer(access_token)

        print("DynamoDB requests per call ...", file=sys.stderr)
        requests = requests_per_call.measure(prepare)
        print("cold starts ...", file=sys.stderr)
        cold_start = cold.measure(
            environments,
            {fid: spec.code_dir for fid, spec in app.functions.items()},
            args.deps,
            environments["RegisterFunction"],
            prepare,
            environments["GetItemFunction"]["ITEMS_TABLE"],
        )
        print("listing pages ...", file=sys.stderr)
        listing_pages = listing.measure(environments["ListItemsFunction"]["ITEMS_TABLE"])
        print("warm overhead ...", file=sys.stderr)
        warm_overhead = warm.measure(access_token)
    finally:
        services.stop()

    configured_cost = int(app.resolver.resolve_text({"Ref": "BcryptCost"}))
    print("bcrypt ...", file=sys.stderr)
    # Merged with the figures the load, fuzz and fault targets keep there.
    update_results(
        {
            "cold_start": cold_start,
            "warm_overhead_us": warm_overhead,
            "dynamodb_requests_per_call": requests,
            "listing": listing_pages,
            "bcrypt_ms": bcrypt_cost.measure(configured_cost),
            "machine": machine(),
            "measured_at": measured_at(),
        }
    )
    print(f"wrote {RESULTS_PATH} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def seed_caller() -> str:
    """Register the account the token event logs in with; a token for the data events' user."""
    from bench.common import load_event
    from functions.register.app import lambda_handler as register
    from lockbox.tokens import issue_access_token

    answer = register(load_event("register_success"), cast(LambdaContext, bench_context()))
    if answer["statusCode"] not in (200, 409):
        raise RuntimeError(f"could not register the benchmark account: {answer['body']}")
    return issue_access_token(BENCH_USER_ID)


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.machine(),
        "functions": [function.name for function in FUNCTIONS],
    }


if __name__ == "__main__":
    main()
