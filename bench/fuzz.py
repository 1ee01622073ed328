"""`make fuzz`: schemathesis runs docs/openapi.yaml against a local stack it starts.

The stack runs in memory at bcrypt cost 4. One account is registered and logged in first;
its token reaches schemathesis through the environment, and the config file applies it to
the operations that declare the bearerAuth scheme only (the /api/data routes).

Schemathesis runs the checks below and writes a HAR file with every request it sent. The
HAR is then read back here: each exchange is counted under its operation, and each
response is validated again with lockbox_local.openapi (the validator the e2e suite
uses), so the figures in bench/results.json do not rest on schemathesis's summary alone.
An OPTIONS on a documented route is the contract's CORS preflight (204, no body): it is
counted as cors_preflight and checked for its CORS headers instead.

Usage: python -m bench.fuzz [--max-examples N] [--seed S] [--min-requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from subprocess import STDOUT
from typing import Any
from urllib.parse import urlsplit

from bench.local_target import (
    BCRYPT_COST,
    new_session,
    register_account,
    running_stack,
    stack_options,
)
from bench.results import record_results
from lockbox_local.openapi import OPENAPI_PATH, find_operation, find_path, response_problems
from lockbox_local.template import PROJECT_ROOT

WORK_DIR = PROJECT_ROOT / "bench" / ".work" / "fuzz"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
# Stateful testing needs links between operations, which the document does not declare.
PHASES = ("examples", "coverage", "fuzzing")
DEFAULT_MAX_EXAMPLES = 300  # ~2,500 requests in about half a minute here
MIN_REQUESTS = 1000
TOKEN_VARIABLE = "LOCKBOX_FUZZ_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
UNDOCUMENTED = "undocumented_method"  # methods the document lacks (schemathesis probes them)
PREFLIGHT = "cors_preflight"  # OPTIONS on a documented route: checked against SPEC.md's CORS
# Only the variable's name is written to disk; schemathesis expands it when it loads.
CONFIG = f"""\
[auth.openapi.bearerAuth]
bearer = "${{{TOKEN_VARIABLE}}}"
"""


@dataclass(slots=True)
class Finding:
    """One response the contract does not allow, with what it answered."""

    method: str
    url: str
    request_body: str
    status: int
    response_body: str
    problems: list[str]


@dataclass(slots=True)
class FuzzReport:
    requests: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    schemathesis_exit_code: int = 0
    schemathesis_failures: list[dict[str, Any]] = field(default_factory=list)
    schemathesis_errors: list[Any] = field(default_factory=list)
    seed: int = 0
    max_examples: int = 0
    duration_s: float = 0.0

    @property
    def clean(self) -> bool:
        return (
            self.schemathesis_exit_code == 0
            and self.server_errors == 0
            and self.schema_violations == 0
            and not self.schemathesis_errors
        )

    def figures(self) -> dict[str, Any]:
        """What bench/results.json keeps under "fuzz"."""
        return {
            "requests": self.requests,
            "server_errors": self.server_errors,
            "schema_violations": self.schema_violations,
            "operations": self.operations,
            "schemathesis_failures": len(self.schemathesis_failures),
            "checks": list(CHECKS),
            "phases": list(PHASES),
            "max_examples": self.max_examples,
            "seed": self.seed,
            "bcrypt_cost": BCRYPT_COST,
            "duration_s": round(self.duration_s, 1),
        }


def _exact_int(digits: str) -> int | Decimal:
    """An int where Python converts it (its digit limit guards against slow parsing)."""
    return int(digits) if len(digits) <= 4000 else Decimal(digits)


def run_fuzz(
    max_examples: int, seed: int, work_dir: Path = WORK_DIR, log_path: Path | None = None
) -> FuzzReport:
    """Start a stack, fuzz it, stop it; the report counts every request schemathesis sent.

    log_path receives the stack's function logs (default: this process's output).
    """
    started = time.perf_counter()
    work_dir.mkdir(parents=True, exist_ok=True)
    har_path, json_path = work_dir / "requests.har.json", work_dir / "schemathesis.json"
    for stale in (har_path, json_path):
        stale.unlink(missing_ok=True)
    with running_stack(stack_options(function_log=log_path)) as stack:
        account = register_account(new_session(), stack.url, "fuzz")
        exit_code = run_schemathesis(
            stack.url, account.token, max_examples, seed, work_dir, har_path, json_path
        )
    # No HAR at all (schemathesis failed to start) reads as zero requests: a failed run.
    report = read_har(har_path) if har_path.exists() else FuzzReport()
    summary: dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}
    report.schemathesis_exit_code = exit_code
    report.schemathesis_failures = list(summary.get("failures", []))
    report.schemathesis_errors = list(summary.get("errors", []))
    report.seed, report.max_examples = seed, max_examples
    report.duration_s = time.perf_counter() - started
    (work_dir / "findings.json").write_text(
        json.dumps([asdict(finding) for finding in report.findings], indent=2) + "\n"
    )
    return report


def run_schemathesis(
    base_url: str,
    token: str,
    max_examples: int,
    seed: int,
    work_dir: Path,
    har_path: Path,
    json_path: Path,
) -> int:
    config_path = work_dir / "schemathesis.toml"
    config_path.write_text(CONFIG)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_path),
        "run",
        str(OPENAPI_PATH),
        "--url",
        base_url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        ",".join(PHASES),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--continue-on-failure",  # count every bad response, not just the first per operation
        "--request-timeout",
        "30",
        "--generation-database",
        "none",  # no .hypothesis directory left behind
        "--report",
        "har,json",
        "--report-har-path",
        str(har_path),
        "--report-json-path",
        str(json_path),
        "--no-color",
        # These two end the fuzzer's own session, and with it every bearer call after them
        # (they run in no fixed order); tests/e2e and tests/handlers cover them.
        *("--exclude-operation-id", "logout", "--exclude-operation-id", "usersLogout"),
    ]
    environment = {**os.environ, TOKEN_VARIABLE: token, "NO_PROXY": "127.0.0.1"}
    # Its console output, the readable account of any failure, goes to this process's
    # own (the stack's function logs go to their own file).
    completed = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        command, cwd=work_dir, env=environment, stderr=STDOUT, check=False
    )
    return completed.returncode


def read_har(har_path: Path) -> FuzzReport:
    """Count and re-validate every exchange schemathesis recorded."""
    har: dict[str, Any] = json.loads(har_path.read_text())
    report = FuzzReport()
    statuses: dict[str, Counter[str]] = {}
    for entry in har["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        method, url, status = request["method"], request["url"], int(response["status"])
        path = urlsplit(url).path  # still percent-encoded, as the gateway matches it
        operation = find_operation(method, path)
        name = str(operation["operationId"]) if operation else UNDOCUMENTED
        if _is_preflight(method, path, status):
            name = PREFLIGHT
        statuses.setdefault(name, Counter())[str(status)] += 1
        report.requests += 1
        problems = _response_problems(method, path, status, response)
        if status >= 500:
            report.server_errors += 1
        if problems:
            report.schema_violations += 1
        if status >= 500 or problems:
            report.findings.append(
                Finding(
                    method=method,
                    url=url,
                    request_body=str(request.get("postData", {}).get("text", ""))[:2000],
                    status=status,
                    response_body=str(response["content"].get("text", ""))[:2000],
                    problems=problems,
                )
            )
    report.operations = {
        name: {"requests": sum(counts.values()), "statuses": dict(sorted(counts.items()))}
        for name, counts in sorted(statuses.items())
    }
    return report


def _header(response: dict[str, Any], name: str) -> str:
    return next((h["value"] for h in response["headers"] if h["name"].lower() == name), "")


def _is_preflight(method: str, path: str, status: int) -> bool:
    """OPTIONS on a documented route: the CORS preflight (SPEC.md, Browsers), not an API
    answer the document lists (it has no OPTIONS operations)."""
    return method == "OPTIONS" and status == 204 and find_path(path) is not None


def _preflight_problems(response: dict[str, Any]) -> list[str]:
    """The contract's preflight: no body, an origin, the route's methods, the headers."""
    problems = []
    if response["content"].get("text"):
        problems.append("a preflight with a body")
    for name in (
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
    ):
        if not _header(response, name):
            problems.append(f"a preflight without {name}")
    return problems


def _response_problems(method: str, path: str, status: int, response: dict[str, Any]) -> list[str]:
    if _is_preflight(method, path, status):
        return _preflight_problems(response)
    content_type = _header(response, "content-type")
    if content_type.split(";")[0].strip() != "application/json":
        return [f"Content-Type is {content_type!r}, not application/json"]
    try:
        # Stored values keep any number of digits (SPEC.md, "Data"): read them exactly.
        body = json.loads(
            response["content"].get("text", ""), parse_int=_exact_int, parse_float=Decimal
        )
    except ValueError:
        return ["the body is not JSON"]
    return response_problems(method, path, status, body)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh random one")
    parser.add_argument("--min-requests", type=int, default=MIN_REQUESTS)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    report = run_fuzz(args.max_examples, seed, log_path=WORK_DIR / "stack.log")
    print_summary(report)
    record_results("fuzz", report.figures())  # a failed run's counts are worth keeping too
    if report.requests < args.min_requests:
        print(f"FAILED: only {report.requests} requests (< {args.min_requests})", file=sys.stderr)
        return 1
    if not report.clean:
        print(f"FAILED: see {WORK_DIR / 'findings.json'} and the output above", file=sys.stderr)
        return 1
    return 0


def print_summary(report: FuzzReport) -> None:
    print(
        f"\nfuzz: {report.requests} requests, {report.server_errors} server errors, "
        f"{report.schema_violations} schema violations, schemathesis exit "
        f"{report.schemathesis_exit_code}, seed {report.seed}, {report.duration_s:.1f} s"
    )
    for name, counts in report.operations.items():
        print(f"  {name:20} {counts['requests']:5}  {counts['statuses']}")
    for finding in report.findings[:20]:
        print(f"  FINDING {finding.method} {finding.url} -> {finding.status}: {finding.problems}")
        print(f"    request: {finding.request_body[:300]}")
        print(f"    response: {finding.response_body[:300]}")


if __name__ == "__main__":
    sys.exit(main())
