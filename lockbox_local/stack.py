"""The whole local stack: DynamoDB Local, the secrets extension stand-in, the function
workers and the gateway, started in order and stopped in reverse."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lockbox_local.api import LocalApp, read_app
from lockbox_local.dynamodb_local import DynamoDBLocal, SetupError, check_java, install_jar
from lockbox_local.gateway import Gateway
from lockbox_local.intrinsics import REGION
from lockbox_local.lambdas import FunctionSpec
from lockbox_local.local_secrets import local_secret_values
from lockbox_local.secrets_extension import SecretsExtensionServer
from lockbox_local.server import DEFAULT_IDLE_TIMEOUT_SECONDS, HttpServer
from lockbox_local.template import PROJECT_ROOT, create_tables, load_template
from lockbox_local.workers import Workers

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"
# Credentials only DynamoDB Local sees (it checks that some are present, not which).
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@dataclass(frozen=True, slots=True)
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    dynamodb_port: int = 8000
    data_dir: Path = DEFAULT_DATA_DIR
    in_memory: bool = False
    workers_per_function: int = 4
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    # A client connection that sends nothing for this long is closed (None: never).
    idle_timeout_seconds: float | None = DEFAULT_IDLE_TIMEOUT_SECONDS


def function_environment(
    spec: FunctionSpec, *, dynamodb_endpoint: str, secrets_port: int, session_token: str
) -> dict[str, str]:
    """What Lambda and the template give the function, pointed at the local services."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        # Lambda's own variables.
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        **LOCAL_CREDENTIALS,
        "AWS_SESSION_TOKEN": session_token,  # the extension's X-Aws-Parameters-Secrets-Token
        # The developer's own AWS config stays out (profiles, endpoints, retry settings).
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # The template's variables, resolved to local names.
        **spec.environment,
        # The local services: boto3 reads the endpoint itself, no branch in the functions.
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(secrets_port),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "POWERTOOLS_METRICS_DISABLED": "true",  # no CloudWatch: keep EMF blobs off the console
    }


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
        self.dynamodb: DynamoDBLocal | None = None
        self._lock: IO[str] | None = None
        self._secrets_server: SecretsExtensionServer | None = None
        self._workers: Workers | None = None
        self._server: HttpServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

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
        data_dir = None if options.in_memory else options.data_dir
        if data_dir is not None:
            self._lock = _lock_data_dir(data_dir)
        java = check_java()
        jar = install_jar()
        # Java starts first: its boot overlaps reading the template below.
        self.dynamodb = DynamoDBLocal(
            java, jar, options.dynamodb_port, data_dir / "dynamodb" if data_dir else None
        )
        self.dynamodb.start()
        template = load_template()
        self.app = app = read_app(template, options.parameter_overrides)
        session_token = secrets.token_urlsafe(24)
        self._secrets_server = SecretsExtensionServer(
            local_secret_values(template, app.resolver, data_dir), session_token
        ).start()
        environments = {
            function_id: function_environment(
                spec,
                dynamodb_endpoint=self.dynamodb.endpoint,
                secrets_port=self._secrets_server.port,
                session_token=session_token,
            )
            for function_id, spec in app.functions.items()
        }
        self._workers = Workers(app.functions, environments, options.workers_per_function)
        self.dynamodb.wait_ready()
        tables = create_tables(self._dynamodb_client())
        logger.info("Tables ready: %s", ", ".join(sorted(tables.values())))
        self._server = HttpServer(
            options.host,
            options.port,
            Gateway(app, self._workers),
            idle_timeout=options.idle_timeout_seconds,
        ).start()
        logger.info("Local stack up in %.1f s", time.perf_counter() - started)

    def _dynamodb_client(self) -> DynamoDBClient:
        import boto3

        assert self.dynamodb is not None
        return boto3.client(
            "dynamodb",
            endpoint_url=self.dynamodb.endpoint,
            region_name=REGION,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        """Stop in reverse order: no new requests, then workers, then the services."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()
        secrets_server, self._secrets_server = self._secrets_server, None
        if secrets_server is not None:
            secrets_server.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()  # releases the flock


def _lock_data_dir(data_dir: Path) -> IO[str]:
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
