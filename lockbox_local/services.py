"""What the functions call, apart from the gateway: DynamoDB Local with the template's
tables, the Secrets Manager emulator (moto's server) and, when asked, the SES stand-in
(lockbox_local.mailbox), started and stopped together.

The local stack runs these under its gateway; the benchmarks run them alone (calling
handlers in-process) and the fault tool reaches DynamoDB Local through them to stop,
restart or freeze it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockbox_local.dynamodb_local import DynamoDBLocal, check_java, install_jar
from lockbox_local.intrinsics import REGION, Resolver
from lockbox_local.lambdas import FunctionSpec
from lockbox_local.local_secrets import local_secret_values
from lockbox_local.mailbox import Mailbox
from lockbox_local.secrets_emulator import SecretsEmulator
from lockbox_local.template import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Credentials only DynamoDB Local sees (it checks that some are present, not which).
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def function_environment(
    spec: FunctionSpec,
    *,
    dynamodb_endpoint: str,
    secrets_endpoint: str,
    secret_names: Mapping[str, str],
    mail_endpoint: str | None = None,
) -> dict[str, str]:
    """What Lambda and the template give the function, pointed at the local services.
    A variable holding a secret's Ref (an ARN) holds the emulator's name for it."""
    template_variables = {
        name: secret_names.get(value, value) for name, value in spec.environment.items()
    }
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
        # The developer's own AWS config stays out (profiles, endpoints, retry settings).
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # The template's variables, resolved to local names.
        **template_variables,
        # The local services: boto3 reads the endpoints itself, no branch in the functions.
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets_endpoint,
        # The SES stand-in; without one, a mail fails and is retried as in AWS.
        **({"AWS_ENDPOINT_URL_SESV2": mail_endpoint} if mail_endpoint else {}),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "POWERTOOLS_METRICS_DISABLED": "true",  # no CloudWatch: keep EMF blobs off the console
    }


class LocalServices:
    """DynamoDB Local (in memory without a data dir), the Secrets Manager emulator and,
    with a mail_port, the SES stand-in.

    Start in two steps so Java boots while the caller reads the template:
    start_dynamodb(), then start(template, resolver), which returns once the tables exist.
    """

    def __init__(
        self,
        dynamodb_port: int,
        data_dir: Path | None = None,
        secrets_port: int = 0,
        mail_port: int | None = None,
    ) -> None:
        self._dynamodb_port = dynamodb_port
        self._mail_port = mail_port
        self.mailbox: Mailbox | None = None
        self._secrets_port = secrets_port
        self._data_dir = data_dir
        self._dynamodb: DynamoDBLocal | None = None
        self._secrets: SecretsEmulator | None = None
        self.tables: dict[str, str] = {}  # logical id -> table name

    @property
    def dynamodb(self) -> DynamoDBLocal:
        """The DynamoDB Local process (the fault tool stops, restarts and freezes it)."""
        if self._dynamodb is None:
            raise RuntimeError("DynamoDB Local has not been started")
        return self._dynamodb

    @property
    def secrets(self) -> SecretsEmulator:
        if self._secrets is None:
            raise RuntimeError("the Secrets Manager emulator has not been started")
        return self._secrets

    def start_dynamodb(self) -> DynamoDBLocal:
        """Start DynamoDB Local's java (returns at once)."""
        db_dir = self._data_dir / "dynamodb" if self._data_dir else None
        self._dynamodb = DynamoDBLocal(check_java(), install_jar(), self._dynamodb_port, db_dir)
        self._dynamodb.start()
        return self._dynamodb

    def start(self, template: Mapping[str, Any], resolver: Resolver) -> None:
        """The secrets emulator up, DynamoDB Local answering, the template's tables there."""
        if self._dynamodb is None:
            self.start_dynamodb()
        self._secrets = SecretsEmulator(
            local_secret_values(template, resolver, self._data_dir), self._secrets_port
        ).start()
        if self._mail_port is not None:
            self.mailbox = Mailbox(self._mail_port).start()
        self.dynamodb.wait_ready()
        self.tables = create_tables(self.dynamodb_client())
        if self.mailbox is not None:
            self.mailbox.wait_ready()

    def function_environments(
        self, functions: Mapping[str, FunctionSpec]
    ) -> dict[str, dict[str, str]]:
        """Each function's environment, by logical id, pointed at these services."""
        return {
            function_id: function_environment(
                spec,
                dynamodb_endpoint=self.dynamodb.endpoint,
                secrets_endpoint=self.secrets.endpoint,
                secret_names=self.secrets.secret_names(),
                mail_endpoint=self.mailbox.url if self.mailbox else None,
            )
            for function_id, spec in functions.items()
        }

    def dynamodb_client(self) -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb")
        return client

    def client(self, service: str) -> Any:
        """A client of DynamoDB Local: "dynamodb", or "dynamodbstreams" for its streams."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.dynamodb.endpoint,
            region_name=REGION,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        mailbox, self.mailbox = self.mailbox, None
        if mailbox is not None:
            mailbox.stop()
        secrets_server, self._secrets = self._secrets, None
        if secrets_server is not None:
            secrets_server.stop()
        if self._dynamodb is not None:
            self._dynamodb.stop()
