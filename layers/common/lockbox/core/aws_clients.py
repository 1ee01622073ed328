"""AWS clients as every function makes them: created on first use (never at import), with
short timeouts and a bounded number of attempts, so that a failing call ends well inside the
function's timeout and the caller gets a 500 envelope instead of a gateway timeout."""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 2
MAX_ATTEMPTS = 3


def new_client(service_name: str, max_attempts: int = MAX_ATTEMPTS) -> Any:
    """A boto3 client of the service; AWS_ENDPOINT_URL_<SERVICE ID> points it elsewhere
    (DynamoDB Local, the local Secrets Manager emulator)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )
    return boto3.client(service_name, config=config)  # type: ignore[call-overload]
