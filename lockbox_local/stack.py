"""The whole local stack: DynamoDB Local, the Secrets Manager emulator, the function
workers and the gateway, started in order and stopped in reverse."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lockbox_local.api import LocalApp, read_app
from lockbox_local.dynamodb_local import SetupError
from lockbox_local.gateway import Gateway
from lockbox_local.mailbox import DEFAULT_MAIL_PORT
from lockbox_local.server import (
    DEFAULT_HEAD_TIMEOUT_SECONDS,
    DEFAULT_IDLE_TIMEOUT_SECONDS,
    HttpServer,
)
from lockbox_local.services import LocalServices
from lockbox_local.streams import StreamPoller, read_stream_sources
from lockbox_local.template import PROJECT_ROOT, load_template
from lockbox_local.ttl import ServiceRemovals, TtlSweeper, read_ttl_tables
from lockbox_local.workers import Workers

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"


@dataclass(frozen=True, slots=True)
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    dynamodb_port: int = 8000
    secrets_port: int = 0  # the Secrets Manager emulator's (0: a free one)
    mail_port: int = DEFAULT_MAIL_PORT  # the SES stand-in's (its mailbox)
    data_dir: Path = DEFAULT_DATA_DIR
    in_memory: bool = False
    workers_per_function: int = 4
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    # A client connection that sends nothing for this long is closed (None: never).
    idle_timeout_seconds: float | None = DEFAULT_IDLE_TIMEOUT_SECONDS
    # ... and so is one whose request line and headers take longer than this (None: never).
    head_timeout_seconds: float | None = DEFAULT_HEAD_TIMEOUT_SECONDS
    # Where the function workers' output goes (their JSON log lines), appended; None:
    # this process's own stdout and stderr.
    function_log: Path | None = None


def ensure_port_free(host: str, port: int, what: str, hint: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise SetupError(
                f"Port {port} ({what}) is already in use, perhaps by another `make run`.\n{hint}"
            ) from None


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.app: LocalApp | None = None
        self.services: LocalServices | None = None
        self._lock: IO[str] | None = None
        self._function_log: IO[bytes] | None = None
        self._workers: Workers | None = None
        self._streams: StreamPoller | None = None
        self._ttl: TtlSweeper | None = None
        self._server: HttpServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

    @property
    def mailbox_url(self) -> str:
        return f"http://127.0.0.1:{self.options.mail_port}"

    def start(self) -> None:
        """Start everything; on failure, stop what was started and raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        options = self.options
        started = time.perf_counter()
        ensure_port_free(
            options.host,
            options.port,
            "the API",
            f"Pick another: PORT={options.port + 1} make run (or --port).",
        )
        ensure_port_free(
            "0.0.0.0",  # noqa: S104 (DynamoDB Local binds every interface: probe them all)
            options.dynamodb_port,
            "DynamoDB Local",
            f"Pick another: DYNAMODB_PORT={options.dynamodb_port + 1} make run (or --dynamodb-port).",
        )
        ensure_port_free(
            options.host,
            options.mail_port,
            "the local SES stand-in",
            f"Pick another: MAIL_PORT={options.mail_port + 1} make run (or --mail-port).",
        )
        data_dir = None if options.in_memory else options.data_dir
        if data_dir is not None:
            self._lock = lock_data_dir(data_dir)
        self.services = services = LocalServices(
            options.dynamodb_port, data_dir, options.secrets_port, options.mail_port
        )
        services.start_dynamodb()  # Java boots while the template is read below
        template = load_template()
        self.app = app = read_app(template, options.parameter_overrides)
        services.start(template, app.resolver)
        logger.info("Tables ready: %s", ", ".join(sorted(services.tables.values())))
        if options.function_log is not None:
            options.function_log.parent.mkdir(parents=True, exist_ok=True)
            self._function_log = options.function_log.open("ab")
        self._workers = Workers(
            app.functions,
            services.function_environments(app.functions),
            options.workers_per_function,
            output=self._function_log,
        )
        sources = read_stream_sources(template)
        removals = ServiceRemovals()
        self._streams = StreamPoller(
            sources,
            services.tables,
            self._workers,
            services.client,
            removals=removals,
            failures_dir=options.data_dir,  # the failure queues' stand-ins
        ).start()
        # DynamoDB Local has no TTL deletes: swept here, for the tables a stream reads.
        self._ttl = TtlSweeper(
            read_ttl_tables(template, {source.table_id for source in sources}),
            services.tables,
            removals,
            services.client,
        ).start()
        self._server = HttpServer(
            options.host,
            options.port,
            Gateway(app, self._workers),
            idle_timeout=options.idle_timeout_seconds,
            head_timeout=options.head_timeout_seconds,
        ).start()
        logger.info("Local stack up in %.1f s", time.perf_counter() - started)

    def stop(self) -> None:
        """Stop in reverse order: no new requests, then workers, then the services."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        ttl, self._ttl = self._ttl, None
        if ttl is not None:
            ttl.stop()
        streams, self._streams = self._streams, None
        if streams is not None:
            streams.stop()
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()
        function_log, self._function_log = self._function_log, None
        if function_log is not None:
            function_log.close()
        if self.services is not None:
            self.services.stop()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()  # releases the flock


def lock_data_dir(data_dir: Path) -> IO[str]:
    """One stack per data dir: two DynamoDB Locals must not share a database file."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = (data_dir / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise SetupError(
            f"Another local stack already uses {data_dir}.\n"
            "Stop it, or start this one with --data-dir DIR or --in-memory."
        ) from None
    with contextlib.suppress(OSError):
        lock.write(str(os.getpid()))
        lock.flush()
    return lock
