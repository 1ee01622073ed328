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
import secrets
import socket
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from bench import bcrypt_cost, cold, listing, requests_per_call, warm
from bench.common import FUNCTIONS, RESULTS_PATH, WORK_DIR, BenchFunction
from lockbox_local.api import read_app
from lockbox_local.dynamodb_local import DynamoDBLocal, check_java, install_jar
from lockbox_local.local_secrets import local_secret_values
from lockbox_local.secrets_extension import SecretsExtensionServer
from lockbox_local.stack import function_environment
from lockbox_local.template import create_tables, load_template

BENCH_USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"  # the caller in the data events
STORED_KEY = "notes"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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

    template = load_template()
    app = read_app(template)
    dynamodb = DynamoDBLocal(check_java(), install_jar(), free_port(), None)
    dynamodb.start()
    session_token = secrets.token_urlsafe(16)
    extension = SecretsExtensionServer(
        local_secret_values(template, app.resolver, None), session_token
    ).start()
    try:
        dynamodb.wait_ready()
        environments = {
            function_id: lambda_like(
                function_environment(
                    spec,
                    dynamodb_endpoint=dynamodb.endpoint,
                    secrets_port=extension.port,
                    session_token=session_token,
                )
            )
            for function_id, spec in app.functions.items()
        }
        # This process runs the handlers too (requests count, warm overhead): same settings.
        os.environ.update(environments["RegisterFunction"])
        os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "BCRYPT_COST": "4"})
        import boto3

        create_tables(boto3.client("dynamodb"))
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
        extension.stop()
        dynamodb.stop()

    configured_cost = int(app.resolver.resolve_text({"Ref": "BcryptCost"}))
    print("bcrypt ...", file=sys.stderr)
    results = read_results()
    results.update(
        {
            "cold_start": cold_start,
            "warm_overhead_us": warm_overhead,
            "dynamodb_requests_per_call": requests,
            "listing": listing_pages,
            "bcrypt_ms": bcrypt_cost.measure(configured_cost),
            "machine": machine(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS_PATH} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def seed_caller() -> str:
    """Register the account the token event logs in with; a token for the data events' user."""
    from bench.common import FakeContext, load_event
    from functions.register.app import lambda_handler as register
    from lockbox.tokens import issue_access_token

    answer = register(load_event("register_success"), cast(LambdaContext, FakeContext()))
    if answer["statusCode"] not in (200, 409):
        raise RuntimeError(f"could not register the benchmark account: {answer['body']}")
    return issue_access_token(BENCH_USER_ID)


def read_results() -> dict[str, Any]:
    """The previous results (load and fuzz figures are written by their own targets)."""
    if RESULTS_PATH.exists():
        previous: dict[str, Any] = json.loads(RESULTS_PATH.read_text())
        return previous
    return {}


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
