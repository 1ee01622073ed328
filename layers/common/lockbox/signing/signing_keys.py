"""The JWT signing keys, read through the AWS Parameters and Secrets Lambda Extension.

The extension answers on localhost and caches the secret, so neither the token
function nor the authorizer needs boto3 or a Secrets Manager client to get it.
The local runner serves the same endpoint, so this code has no local-only branch.

The secret rotates (template.yaml, SigningKeyRotationDays). Each version of it is one
signing key, named by its Secrets Manager version id: that id is the `kid` of the tokens
the key signs. New tokens use the version labelled AWSCURRENT; tokens signed with it or
with the version labelled AWSPREVIOUS verify; no other version does. The extension takes
`versionStage` or `versionId` alongside `secretId`
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html).

The two keys are cached here for a few minutes. A token whose kid is not among them is
either signed with a key newer than the cache (a rotation happened since) or forged: the
keys are then fetched again, at most once a second per container, and the kid is also
looked up by version id, which the extension has not cached yet, so a container whose
cache (or whose extension's cache) predates a rotation still accepts the new key's tokens.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lockbox.core.settings import get_settings

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
_TIMEOUT_SECONDS = 2.0
# A kid not in the cache makes at most one round of look-ups per second per container.
_LOOKUP_INTERVAL_SECONDS = 1.0
# Secrets Manager version ids (ClientRequestToken) are 32 to 64 characters.
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{32,64}")
_lock = threading.Lock()


class SecretUnavailableError(RuntimeError):
    """The extension could not give the secret (not running, no permission, no such secret)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str  # the Secrets Manager version id: names the key, reveals nothing of it
    secret: str


@dataclass(frozen=True, slots=True)
class _KeySet:
    current: SigningKey
    accepted: dict[str, SigningKey]  # by kid: the current key and the previous one
    fetched_at: float


_cached: _KeySet | None = None
_last_lookup: float | None = None


def signing_key() -> SigningKey:
    """The key new tokens are signed with (AWSCURRENT), from a cache of a few minutes."""
    with _lock:
        return _key_set(time.monotonic()).current


def verification_keys() -> list[SigningKey]:
    """The keys that verify: the current one and the previous one (if any), from the cache."""
    with _lock:
        return list(_key_set(time.monotonic()).accepted.values())


def verification_key(kid: str) -> SigningKey | None:
    """The key named kid if it is the current or the previous one; None for any other."""
    with _lock:
        now = time.monotonic()
        known = _key_set(now).accepted.get(kid)
        if known is not None or not _VERSION_ID.fullmatch(kid):
            return known
        global _last_lookup
        if _last_lookup is not None and now - _last_lookup < _LOOKUP_INTERVAL_SECONDS:
            return None
        _last_lookup = now
        return _look_up(kid, now)


def _key_set(now: float) -> _KeySet:
    global _cached
    cache_seconds = get_settings().signing_key_cache_seconds
    if _cached is None or now - _cached.fetched_at >= cache_seconds:
        _cached = _fetch_key_set(now)
    return _cached


def _look_up(kid: str, now: float) -> SigningKey | None:
    """A kid the cache does not know: fetch both keys again (unless just fetched), then the
    version itself, which the extension cannot have cached under its id."""
    global _cached
    if _cached is None or _cached.fetched_at != now:
        _cached = _fetch_key_set(now)
    if kid in _cached.accepted:
        return _cached.accepted[kid]
    version = _fetch_version({"versionId": kid}, missing_ok=True)
    stages = set(version.get("VersionStages") or ()) if version is not None else set()
    if version is None or not {CURRENT, PREVIOUS} & stages:
        return None
    key = _signing_key(version)
    if CURRENT in stages:  # a rotation the extension's answers do not show yet
        accepted = {kid: key, _cached.current.kid: _cached.current}
        _cached = _KeySet(current=key, accepted=accepted, fetched_at=_cached.fetched_at)
    else:
        accepted = {**_cached.accepted, kid: key}
        _cached = _KeySet(current=_cached.current, accepted=accepted, fetched_at=_cached.fetched_at)
    return key


def _fetch_key_set(now: float) -> _KeySet:
    current_version = _fetch_version({"versionStage": CURRENT}, missing_ok=False)
    assert current_version is not None  # missing_ok=False raises instead
    current = _signing_key(current_version)
    accepted = {current.kid: current}
    # There is no AWSPREVIOUS before the first rotation.
    previous_version = _fetch_version({"versionStage": PREVIOUS}, missing_ok=True)
    if previous_version is not None:
        previous = _signing_key(previous_version)
        accepted[previous.kid] = previous
    return _KeySet(current=current, accepted=accepted, fetched_at=now)


def _signing_key(version: dict[str, Any]) -> SigningKey:
    kid, secret = version.get("VersionId"), version.get("SecretString")
    if not isinstance(kid, str) or not kid:
        raise SecretUnavailableError("secret version has no VersionId")
    if not isinstance(secret, str) or not secret:
        raise SecretUnavailableError("secret has no SecretString")
    return SigningKey(kid=kid, secret=secret)


def _fetch_version(selector: dict[str, str], *, missing_ok: bool) -> dict[str, Any] | None:
    """One version of the secret (by versionStage or versionId); None when missing_ok and
    there is no such version (the extension passes on Secrets Manager's 4xx answer)."""
    settings = get_settings()
    query = urlencode({"secretId": settings.jwt_secret_id, **selector})
    connection = http.client.HTTPConnection(
        "localhost", settings.secrets_extension_port, timeout=_TIMEOUT_SECONDS
    )
    try:
        connection.request(
            "GET",
            f"/secretsmanager/get?{query}",
            headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")},
        )
        response = connection.getresponse()
        payload = response.read()
    except OSError as error:
        raise SecretUnavailableError(f"secrets extension unreachable: {error}") from None
    finally:
        connection.close()
    if response.status in (400, 404) and missing_ok:
        return None
    if response.status != 200:
        raise SecretUnavailableError(f"secrets extension answered HTTP {response.status}")
    version: dict[str, Any] = json.loads(payload)
    return version


def forget_cached_key() -> None:
    """Drop the cached keys (tests, and callers that know the key has rotated)."""
    global _cached, _last_lookup
    with _lock:
        _cached = None
        _last_lookup = None
