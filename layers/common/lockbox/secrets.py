"""The JWT signing key, read through the AWS Parameters and Secrets Lambda Extension.

The extension answers on localhost and caches the secret, so neither the token
function nor the authorizer needs boto3 or a Secrets Manager client to get it.
The local runner serves the same endpoint, so this code has no local-only branch.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from urllib.parse import quote

from lockbox.settings import get_settings

_CACHE_SECONDS = 300.0
_TIMEOUT_SECONDS = 2.0
_lock = threading.Lock()
_cached: tuple[float, str] | None = None


class SecretUnavailableError(RuntimeError):
    """The extension could not give the secret (not running, no permission, no such secret)."""


def jwt_signing_key() -> str:
    """The signing key, fetched at most every few minutes so a rotated key is picked up."""
    global _cached
    with _lock:
        now = time.monotonic()
        if _cached is None or now - _cached[0] > _CACHE_SECONDS:
            _cached = (now, _fetch_secret_string(get_settings().jwt_secret_id))
        return _cached[1]


def _fetch_secret_string(secret_id: str) -> str:
    settings = get_settings()
    connection = http.client.HTTPConnection(
        "localhost", settings.secrets_extension_port, timeout=_TIMEOUT_SECONDS
    )
    try:
        connection.request(
            "GET",
            f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
            headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")},
        )
        response = connection.getresponse()
        payload = response.read()
    except OSError as error:
        raise SecretUnavailableError(f"secrets extension unreachable: {error}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise SecretUnavailableError(f"secrets extension answered HTTP {response.status}")
    secret = json.loads(payload).get("SecretString")
    if not isinstance(secret, str) or not secret:
        raise SecretUnavailableError("secret has no SecretString")
    return secret


def forget_cached_key() -> None:
    """Drop the cached key (tests, and callers that know the key has rotated)."""
    global _cached
    with _lock:
        _cached = None
