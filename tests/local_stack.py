"""A local stack for a test session: `python -m lockbox_local` as a child process on free
ports, with DynamoDB Local in memory by default. The end-to-end and browser suites both start one.

    stack = LocalStackProcess(work_dir)   # started; its output goes to work_dir/local-stack.log
    stack.wait_until_serving()            # fails the test, with the log's tail, if it never does
    ... stack.url ...
    stack.stop()
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from lockbox_local.ports import free_ports, port_answers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 120.0  # first run on a cold machine: JVM, imports, table creation
STOP_TIMEOUT_SECONDS = 30.0


def _log_tail(log_path: Path, lines: int = 60) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


class LocalStackProcess:
    """`python -m lockbox_local` as a child process, with its output in a log file
    (in memory unless asked otherwise; extra_args are more of its options)."""

    def __init__(
        self, work_dir: Path, *, in_memory: bool = True, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.data_dir = work_dir / "data"
        self.port, self.dynamodb_port, self.mail_port = free_ports(3)
        self.url = f"http://127.0.0.1:{self.port}"
        self.mailbox_url = f"http://127.0.0.1:{self.mail_port}"  # GET /store lists the mails
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
                "--mail-port",
                str(self.mail_port),
                "--data-dir",
                str(self.data_dir),
                *(["--in-memory"] if in_memory else []),
                "--stop-with-parent",
                *extra_args,
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
        while port_answers(self.dynamodb_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if port_answers(self.dynamodb_port):
            found = re.search(r"DynamoDB Local \(pid (\d+)\)", self.log_path.read_text())
            if found:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(found.group(1)), signal.SIGKILL)
            raise AssertionError(
                f"DynamoDB Local outlived the local stack on port {self.dynamodb_port}"
            )
