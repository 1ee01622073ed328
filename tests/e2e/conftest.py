"""The end-to-end suite's target: API_URL when set (a deployed stack), else a local stack
this session starts itself (`python -m lockbox_local`, in memory, on free ports).

Fixtures: `api_url` (base URL, no trailing slash) and `http` (a requests.Session with a
default timeout). Every test here is marked `e2e`; the run ends with how many ran.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

E2E_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = E2E_DIR.parent.parent
START_TIMEOUT_SECONDS = 120.0  # first run on a cold machine: JVM, imports, table creation
STOP_TIMEOUT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 60.0  # bcrypt at cost 12 under 20 parallel requests queues a while

_target: dict[str, str] = {}
_outcomes: Counter[str] = Counter()


# --- marking and counting --------------------------------------------------------------


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "e2e" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    ran = sum(_outcomes.values())
    if not ran:
        return
    where = _target.get("description", "no target")
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(_outcomes.items()))
    terminalreporter.write_sep("-", f"e2e tests run: {ran} against {where} ({counts})")


# --- the target ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(log_path: Path, lines: int = 60) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


class LocalStackProcess:
    """`python -m lockbox_local` as a child process, with its output in a log file."""

    def __init__(self, work_dir: Path) -> None:
        self.port = _free_port()
        self.dynamodb_port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / "local-stack.log"
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [
                sys.executable,
                "-m",
                "lockbox_local",
                "--port",
                str(self.port),
                "--dynamodb-port",
                str(self.dynamodb_port),
                "--data-dir",
                str(work_dir / "data"),
                "--in-memory",
                "--stop-with-parent",
            ],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on pytest is handled by the teardown below
        )

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"exited with code {self._process.returncode} before serving")
            try:
                requests.get(f"{self.url}/", timeout=1)
                return  # any answer (the 404 envelope) means the gateway is up
            except requests.RequestException:
                time.sleep(0.2)
        self._fail(f"did not answer on {self.url} within {START_TIMEOUT_SECONDS:g} s")

    def _fail(self, what: str) -> None:
        self.stop()
        pytest.fail(
            f"The local stack (python -m lockbox_local) {what}.\n"
            f"Its output ({self.log_path}):\n{_log_tail(self.log_path)}",
            pytrace=False,
        )

    def stop(self) -> None:
        """SIGTERM (a clean stop, like Ctrl-C), then make sure DynamoDB Local is gone too."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _port_open(self.dynamodb_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _port_open(self.dynamodb_port):
            found = re.search(r"DynamoDB Local \(pid (\d+)\)", self.log_path.read_text())
            if found:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(found.group(1)), signal.SIGKILL)
            raise AssertionError(
                f"DynamoDB Local outlived the local stack on port {self.dynamodb_port}"
            )


@pytest.fixture(scope="session")
def api_url() -> Iterator[str]:
    """Base URL of the API under test: $API_URL, or a local stack started for this session."""
    deployed = os.environ.get("API_URL", "").strip()
    if deployed:
        _target["description"] = deployed
        yield deployed.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="lockbox-e2e-") as work_dir:
        stack = LocalStackProcess(Path(work_dir))
        _target["description"] = f"the local stack at {stack.url}"
        stack.wait_until_serving()
        try:
            yield stack.url
        finally:
            stack.stop()


class _SessionWithTimeout(requests.Session):
    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="session")
def http(api_url: str) -> Iterator[requests.Session]:
    """A requests.Session with a default timeout (one per session: not thread-safe)."""
    with _SessionWithTimeout() as session:
        if api_url.startswith("http://127.0.0.1"):
            session.trust_env = False  # no proxy or .netrc credentials for the local stack
        yield session
