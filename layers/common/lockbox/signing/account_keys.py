"""The account keys: the secret that protects account data at rest (the password pepper,
the encryption key of TOTP secrets), read from Secrets Manager like the signing keys.

A database leak alone must not give away what these keys protect, so they live in their
own secret (template.yaml AccountKeys), never in DynamoDB. Its value is a JSON document of
numbered master keys and the number new data uses:

    {"current": "1", "1": "<64 random characters>"}

Adding a master key is adding a number and pointing "current" at it (docs/production.md):
data protected under an older number names that number and stays readable, so no master
key is ever removed while data uses it. Each use gets its own key, derived from the master
key with HMAC-SHA256 over the purpose's label, so one purpose's key tells nothing of
another's.

Powertools caches the document for SigningKeyCacheSeconds
(https://docs.aws.amazon.com/powertools/python/latest/utilities/parameters/). A version the
cached document lacks (a container older than a new master key) makes one fresh read, at
most once a second per container.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from enum import Enum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from lockbox.core.settings import get_settings
from lockbox.signing.signing_keys import SecretUnavailableError, secretsmanager_client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

_CURRENT = "current"
_LOOKUP_INTERVAL_SECONDS = 1.0
_lock = threading.Lock()
_last_lookup: float | None = None
# The last document read and its keys: checked once per document, not on every use.
_parsed: tuple[object, _MasterKeys] | None = None


class Purpose(Enum):
    """What a derived key protects; the value is its derivation label."""

    PASSWORD_PEPPER = "lockbox/password-pepper"  # noqa: S105 (a label, not a secret)
    TOTP_SECRET = "lockbox/totp-secret-encryption"  # noqa: S105


class DerivedKey(NamedTuple):
    version: str  # the master key's number: stored beside what the key protects
    key: bytes  # 32 bytes, for this purpose only


class _MasterKeys(NamedTuple):
    current: str
    by_version: dict[str, str]


def current_key(purpose: Purpose) -> DerivedKey:
    """The key new data of this purpose is protected with."""
    masters = _master_keys(force=False)
    return DerivedKey(masters.current, _derive(masters.by_version[masters.current], purpose))


def key_version(purpose: Purpose, version: str) -> bytes | None:
    """The key of an earlier (or newer) master key; None when the secret has no such number."""
    global _last_lookup
    with _lock:
        masters = _master_keys(force=False)
        if version not in masters.by_version:
            now = time.monotonic()
            if _last_lookup is not None and now - _last_lookup < _LOOKUP_INTERVAL_SECONDS:
                return None
            _last_lookup = now
            masters = _master_keys(force=True)
    master = masters.by_version.get(version)
    return None if master is None else _derive(master, purpose)


@lru_cache(maxsize=8)  # each purpose's key of the current master key, and of older ones
def _derive(master: str, purpose: Purpose) -> bytes:
    return hmac.new(master.encode("utf-8"), purpose.value.encode("ascii"), hashlib.sha256).digest()


def _master_keys(*, force: bool) -> _MasterKeys:
    """The secret's document, checked: a current number that names a non-empty key."""
    global _parsed
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    settings = get_settings()
    try:
        document: Any = _provider().get(
            settings.account_keys_secret_id,
            max_age=settings.signing_key_cache_seconds,
            transform="json",
            force_fetch=force,
        )
    except (GetParameterError, TransformParameterError) as error:
        # Powertools keeps only the message; it names the AWS error, never the secret's value.
        raise SecretUnavailableError(f"account keys unavailable: {error}") from None
    if _parsed is not None and _parsed[0] is document:  # Powertools' cached answer, again
        return _parsed[1]
    if not isinstance(document, dict):
        raise SecretUnavailableError("the account keys secret is not a JSON object")
    current = document.get(_CURRENT)
    keys = {
        name: value
        for name, value in document.items()
        if name != _CURRENT and isinstance(value, str) and value
    }
    if not isinstance(current, str) or current not in keys:
        raise SecretUnavailableError("the account keys secret has no current key")
    masters = _MasterKeys(current, keys)
    _parsed = (document, masters)
    return masters


@cache
def _provider() -> SecretsProvider:
    # Imported on first use: Powertools' Parameters utility brings boto3.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager_client())


def forget_cached_keys() -> None:
    """Drop the cached document (tests: a new container)."""
    global _last_lookup, _parsed
    with _lock:
        _provider.cache_clear()
        _derive.cache_clear()
        _last_lookup = None
        _parsed = None
