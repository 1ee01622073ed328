"""AWS clients, created once per container on first use (never at import)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Short timeouts and a bounded number of attempts keep a failing call well inside
# the function timeout, so the client gets a 500 envelope instead of a gateway timeout.
_CONNECT_TIMEOUT_SECONDS = 1
_READ_TIMEOUT_SECONDS = 2
_MAX_ATTEMPTS = 3


@cache
def dynamodb() -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=_CONNECT_TIMEOUT_SECONDS,
        read_timeout=_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": _MAX_ATTEMPTS},
    )
    # AWS_ENDPOINT_URL_DYNAMODB, when set, points this client at DynamoDB Local.
    return boto3.client("dynamodb", config=config)


@cache
def secretsmanager() -> SecretsManagerClient:
    """For the rotation function only: the others read the key through the extension."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": _MAX_ATTEMPTS})
    return boto3.client("secretsmanager", config=config)
