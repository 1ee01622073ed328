"""`make load`: locust (headless) runs bench/locustfile.py against a local stack it starts,
then every key the simulated users kept is read back, every key they deleted is checked
gone, and each user's export is walked: it must hold exactly the kept keys.

The stack runs in memory at bcrypt cost 4 (each user registers once: the figure is the
API's, not bcrypt's). Locust runs in its own process: it monkey-patches the standard
library with gevent, which the stack's threads and worker pipes here must not see.

Usage: python -m bench.load [--users 20] [--cycles 55] [--workers-per-function 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import STDOUT
from typing import Any
from urllib.parse import quote

from bench.local_target import (
    BCRYPT_COST,
    DEFAULT_WORKERS_PER_FUNCTION,
    REQUEST_TIMEOUT_SECONDS,
    new_session,
    register_account,
    running_stack,
    stack_options,
)
from bench.results import record_results
from lockbox_local.template import PROJECT_ROOT

WORK_DIR = PROJECT_ROOT / "bench" / ".work" / "load"
LOCUSTFILE = PROJECT_ROOT / "bench" / "locustfile.py"
DEFAULT_USERS = 20
DEFAULT_CYCLES = 55  # ~260 requests per user: over 5,000 with 20 users
MIN_REQUESTS = 5000
RUN_TIME_LIMIT_SECONDS = 300  # locust stops by itself when every user is done; this bounds it
VERIFY_THREADS = 4


@dataclass(slots=True)
class LoadReport:
    users: int
    workers_per_function: int
    requests: int = 0
    errors: int = 0
    duration_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    finished_users: int = 0
    kept_keys: int = 0
    deleted_keys: int = 0
    lost_writes: int = 0  # a kept key missing, or not holding the last value written
    deleted_found: int = 0  # a deleted key still readable
    verify_requests: int = 0
    warmup_requests: int = 0
    locust_exit_code: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def clean(self) -> bool:
        return (
            self.errors == 0
            and self.lost_writes == 0
            and self.deleted_found == 0
            and self.finished_users == self.users
            and self.locust_exit_code == 0
        )

    def figures(self) -> dict[str, Any]:
        """What bench/results.json keeps under "load"."""
        return {
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "users": self.users,
            "lost_writes": self.lost_writes,
            "deleted_keys_found": self.deleted_found,
            "kept_keys_verified": self.kept_keys,
            "deleted_keys_verified": self.deleted_keys,
            "duration_s": round(self.duration_s, 1),
            "workers_per_function": self.workers_per_function,
            "bcrypt_cost": BCRYPT_COST,
            "warmup_requests": self.warmup_requests,
        }


def run_load(
    users: int = DEFAULT_USERS,
    cycles: int = DEFAULT_CYCLES,
    workers_per_function: int = DEFAULT_WORKERS_PER_FUNCTION,
    work_dir: Path = WORK_DIR,
    log_path: Path | None = None,
) -> LoadReport:
    work_dir.mkdir(parents=True, exist_ok=True)
    ledger_path = work_dir / "ledger.json"
    ledger_path.unlink(missing_ok=True)
    report = LoadReport(users=users, workers_per_function=workers_per_function)
    options = stack_options(workers_per_function=workers_per_function, function_log=log_path)
    with running_stack(options) as stack:
        report.warmup_requests = warm_up(stack.url, users)
        report.locust_exit_code = run_locust(stack.url, users, cycles, ledger_path)
        if not ledger_path.exists():
            report.problems.append("locust wrote no ledger")
            return report
        ledger: dict[str, Any] = json.loads(ledger_path.read_text())
        summarise(report, ledger)
        verify(report, stack.url, ledger["users"])
    return report


def warm_up(base_url: str, users: int) -> int:
    """Start every function's workers before the measured run (`make bench` measures cold
    starts; here they would only put the first second's queueing into p99).

    As many threads as simulated users run one cycle of every call the users make at once:
    each function's pool sees that many concurrent calls and starts all its workers.
    """

    def one_cycle(number: int) -> int:
        session = new_session()
        account = register_account(session, base_url, "warmup")
        path = f"{base_url}/api/data/warm-{number}"
        headers = {"Authorization": f"Bearer {account.token}"}
        batch = [{"op": "store", "key": f"warm-batch-{number}", "value": {"n": 1}}]
        calls = [
            ("POST", f"{base_url}/api/data", {"key": f"warm-{number}", "value": 1}),
            ("GET", path, None),
            ("PUT", path, {"value": 2}),
            ("POST", f"{path}/increment", {"by": 1}),
            ("DELETE", path, None),
            ("POST", f"{base_url}/api/batch/write", {"operations": batch}),
            ("POST", f"{base_url}/api/batch/get", {"keys": [f"warm-batch-{number}"]}),
            ("PATCH", f"{base_url}/api/data/warm-batch-{number}", {"n": 2}),
            ("GET", f"{base_url}/api/export", None),
        ]
        for method, url, body in calls:
            kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
            answer = session.request(
                method,
                url,
                data=None if body is None else json.dumps(body),
                headers={**headers, "Content-Type": kind},
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"warm-up {method} {url}: {answer.status_code} {answer.text}")
        return 2 + len(calls)  # register and token, then the data calls

    with ThreadPoolExecutor(users) as pool:
        return sum(pool.map(one_cycle, range(users)))


def run_locust(base_url: str, users: int, cycles: int, ledger_path: Path) -> int:
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base_url,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),  # everyone at once: the test is about concurrency
        "--run-time",
        f"{RUN_TIME_LIMIT_SECONDS}s",
        "--stop-timeout",
        "30",
        "--only-summary",
    ]
    environment = {
        **os.environ,
        "LOCKBOX_LOAD_LEDGER": str(ledger_path),
        "LOCKBOX_LOAD_CYCLES": str(cycles),
        "NO_PROXY": "127.0.0.1",
    }
    # Locust's summary table goes to this process's own output, not the stack's log.
    completed = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        command, env=environment, stderr=STDOUT, check=False
    )
    return completed.returncode


def summarise(report: LoadReport, ledger: dict[str, Any]) -> None:
    latencies: list[float] = ledger["latencies_ms"]
    report.requests = len(latencies)
    report.errors = int(ledger["failures"])
    report.problems.extend(ledger["failure_samples"])
    report.finished_users = int(ledger["finished_users"])
    report.duration_s = float(ledger["duration_s"])
    if len(latencies) >= 2:
        percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
        report.p50_ms, report.p99_ms = percentiles[49], percentiles[98]


_thread = threading.local()  # requests sessions are not shared across threads


def thread_session() -> Any:
    if not hasattr(_thread, "session"):
        _thread.session = new_session()
    return _thread.session


def export_problems(base_url: str, user: dict[str, Any]) -> list[str]:
    """Walk the user's export: it holds exactly the keys kept, with their last values."""
    found: dict[str, Any] = {}
    cursor: str | None = None
    while True:
        answer = thread_session().get(
            f"{base_url}/api/export",
            params={} if cursor is None else {"cursor": cursor},
            headers={"Authorization": f"Bearer {user['token']}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        if answer.status_code != 200:
            return [f"lost write: export answered {answer.status_code} {answer.text[:200]}"]
        data = answer.json()["data"]
        found.update((item["key"], item["value"]) for item in data["items"])
        cursor = data["cursor"]
        if cursor is None:
            break
    problems = [
        f"lost write: {key!r} exported as {found.get(key)!r}"
        for key, value in user["kept"].items()
        if found.get(key) != value
    ]
    return problems + [
        f"deleted key found: {key!r} exported" for key in found if key not in user["kept"]
    ]


def verify(report: LoadReport, base_url: str, users: dict[str, dict[str, Any]]) -> None:
    """Read back every kept key (its last value: stores, updates, batch writes, patches and
    increments alike) and every deleted key (404 KEY_NOT_FOUND), then walk each user's
    export, which must hold exactly the kept keys with those values."""
    checks = [
        (user["token"], key, True, value)
        for user in users.values()
        for key, value in user["kept"].items()
    ] + [(user["token"], key, False, None) for user in users.values() for key in user["deleted"]]
    report.kept_keys = sum(1 for check in checks if check[2])
    report.deleted_keys = len(checks) - report.kept_keys

    def read_back(check: tuple[str, str, bool, Any]) -> str | None:
        token, key, kept, value = check
        answer = thread_session().get(
            f"{base_url}/api/data/{quote(key, safe='')}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        body = answer.json()
        if kept and (answer.status_code != 200 or body["data"]["value"] != value):
            return f"lost write: {key!r} answered {answer.status_code} {answer.text[:200]}"
        if not kept and (answer.status_code != 404 or body.get("code") != "KEY_NOT_FOUND"):
            return f"deleted key found: {key!r} answered {answer.status_code} {answer.text[:200]}"
        return None

    with ThreadPoolExecutor(VERIFY_THREADS) as pool:
        outcomes: list[str | None] = list(pool.map(read_back, checks))
        exports = pool.map(lambda user: export_problems(base_url, user), users.values())
        outcomes += [problem for problems in exports for problem in problems]
    report.verify_requests = len(checks) + len(users)
    for outcome in outcomes:
        if outcome is None:
            continue
        if outcome.startswith("lost write"):
            report.lost_writes += 1
        else:
            report.deleted_found += 1
        report.problems.append(outcome)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    parser.add_argument("--cycles", type=int, default=DEFAULT_CYCLES)
    parser.add_argument("--workers-per-function", type=int, default=DEFAULT_WORKERS_PER_FUNCTION)
    parser.add_argument("--min-requests", type=int, default=MIN_REQUESTS)
    args = parser.parse_args()
    started = time.perf_counter()
    report = run_load(
        args.users, args.cycles, args.workers_per_function, log_path=WORK_DIR / "stack.log"
    )
    print(
        f"\nload: {report.requests} requests from {report.users} users in "
        f"{report.duration_s:.1f} s ({report.rps:.0f} rps), p50 {report.p50_ms:.1f} ms, "
        f"p99 {report.p99_ms:.1f} ms, {report.errors} errors; read back "
        f"{report.kept_keys} kept and {report.deleted_keys} deleted keys: "
        f"{report.lost_writes} lost writes, {report.deleted_found} deleted keys found "
        f"({time.perf_counter() - started:.0f} s in all)"
    )
    for problem in report.problems[:20]:
        print(f"  PROBLEM {problem}")
    record_results("load", report.figures())
    if report.requests < args.min_requests:
        print(f"FAILED: only {report.requests} requests (< {args.min_requests})", file=sys.stderr)
        return 1
    if not report.clean:
        print("FAILED: see the problems above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
