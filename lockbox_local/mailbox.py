"""The local SES stand-in: the npm package `aws-ses-v2-local`, run by node. It answers
SES's v2 SendEmail (boto3 reaches it through AWS_ENDPOINT_URL_SESV2), keeps every mail in
memory, shows them to a person at its root URL and lists them as JSON at `GET /store`
(`{"emails": [{"messageId", "from", "destination": {"to"}, "subject", "body": {"text",
"html"}, "at"}]}`; `?since=<Unix seconds>` keeps the later ones). Mails last as long as
the process."""

from __future__ import annotations

import collections
import logging
import shutil
import subprocess
import threading
import time
from pathlib import Path

from lockbox_local.dynamodb_local import (
    SetupError,
    answers_http,
    die_with_parent,
    install_npm_packages,
)
from lockbox_local.template import PROJECT_ROOT

logger = logging.getLogger(__name__)

NPM_PACKAGE = "aws-ses-v2-local"
DEFAULT_MAIL_PORT = 8005
_START_TIMEOUT_SECONDS = 30.0
_STOP_GRACE_SECONDS = 5.0


def install_cli(root: Path = PROJECT_ROOT) -> Path:
    """The stand-in's command-line entry point, installing the npm packages when missing."""
    cli = root / "node_modules" / NPM_PACKAGE / "dist" / "cli.js"
    if not cli.exists():
        install_npm_packages(root, NPM_PACKAGE)
    if not cli.exists():
        raise SetupError(f"npm did not install {NPM_PACKAGE}")
    return cli


class Mailbox:
    """One aws-ses-v2-local process on 127.0.0.1:port."""

    def __init__(self, port: int, cli: Path | None = None) -> None:
        self.port = port
        self._cli = cli or install_cli()
        self._process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)

    @property
    def url(self) -> str:
        """Where a person reads the mails (and AWS_ENDPOINT_URL_SESV2 for the functions)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        node = shutil.which("node")
        if node is None:
            raise SetupError("Node.js runs the local SES stand-in, and no `node` is on PATH.")
        self._process = subprocess.Popen(  # noqa: S603 (node and the packaged script)
            [node, str(self._cli), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self._cli.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        threading.Thread(target=self._collect_output, name="mailbox-output", daemon=True).start()
        return self

    def _collect_output(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._output.append(line.rstrip())
            logger.debug("aws-ses-v2-local: %s", line.rstrip())

    def wait_ready(self, timeout: float = _START_TIMEOUT_SECONDS) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                time.sleep(0.2)
                output = "\n".join(self._output)
                raise SetupError(
                    f"The local SES stand-in exited (code {self._process.returncode}):\n{output}"
                )
            if answers_http(self.port):
                return
            time.sleep(0.1)
        raise SetupError(f"The local SES stand-in did not answer within {timeout:g} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
