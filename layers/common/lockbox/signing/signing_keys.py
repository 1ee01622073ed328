"""The JWT signing keys, read from Secrets Manager with Powertools' Parameters utility.

Each function that signs or verifies tokens asks Secrets Manager itself (GetSecretValue,
through boto3), so nothing region-specific is attached to it: no extension layer, no
per-region table. Locally AWS_ENDPOINT_URL_SECRETS_MANAGER points the same client at the
local stack's emulator, so this code has no local-only branch.

The secret rotates (template.yaml, SigningKeyRotationDays). Each version of it is one
signing key, named by its Secrets Manager version id: that id is the `kid` of the tokens
the key signs. New tokens use the version labelled AWSCURRENT; tokens signed with it or
with the version labelled AWSPREVIOUS verify; no other version does.

Powertools caches each stage's answer for SigningKeyCacheSeconds
(https://docs.aws.amazon.com/powertools/python/latest/utilities/parameters/). A token whose
kid is not among the cached keys is either signed with a key newer than the cache (a
rotation happened since) or forged: the keys are then fetched again, at most once a second
per container, and the kid is also looked up by version id, so a container whose cache
predates a rotation still accepts the new key's tokens at once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Collection
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from lockbox.core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from lockbox.signing.secret_versions import VersionProvider

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
# Fewer attempts than for DynamoDB: a key read comes before the call's own requests, and
# both must end well inside the function timeout.
_MAX_ATTEMPTS = 2
# A kid not in the cache makes at most one round of look-ups per second per container.
_LOOKUP_INTERVAL_SECONDS = 1.0
# Secrets Manager version ids (ClientRequestToken) are 32 to 64 characters.
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{32,64}")
_lock = threading.Lock()


class SecretUnavailableError(RuntimeError):
    """Secrets Manager could not give the secret (unreachable, no permission, no such secret)."""


class SigningKey(NamedTuple):
    kid: str  # the Secrets Manager version id: names the key, reveals nothing of it
    secret: str


class _KeySet(NamedTuple):
    current: SigningKey
    accepted: dict[str, SigningKey]  # by kid: the current key and the previous one


class _Providers(NamedTuple):
    # Powertools' cache key is the secret's name alone, not the SDK options: one provider
    # (one cache) per stage, or AWSPREVIOUS would be answered with AWSCURRENT's cached value.
    stages: dict[str, VersionProvider]
    by_id: VersionProvider  # never cached: the look-up interval below bounds it


@cache
def secretsmanager_client() -> SecretsManagerClient:
    """The container's Secrets Manager client, created on first use (never at import): the
    functions' and the rotation function's."""
    from lockbox.core.aws_clients import new_client

    # AWS_ENDPOINT_URL_SECRETS_MANAGER (the service id "Secrets Manager", not the client name),
    # when set, points this client at the local emulator.
    # https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
    secretsmanager: SecretsManagerClient = new_client("secretsmanager", _MAX_ATTEMPTS)
    return secretsmanager


@cache
def _providers() -> _Providers:
    # Imported on first use: Powertools' Parameters utility brings boto3, which an import of
    # the handler (a cold start's first part) need not load.
    from lockbox.signing.secret_versions import VersionProvider

    client = secretsmanager_client()
    return _Providers(
        stages={stage: VersionProvider(client) for stage in (CURRENT, PREVIOUS)},
        by_id=VersionProvider(client),
    )


# A key found by version id that is newer than the stages answered: the key set it makes,
# kept while the stages still answer the kids it was made from.
_learned: tuple[frozenset[str], _KeySet] | None = None
_last_lookup: float | None = None


def signing_key() -> SigningKey:
    """The key new tokens are signed with (AWSCURRENT), from a cache of a few minutes."""
    with _lock:
        if _learned is None:  # as always but just after a rotation: AWSCURRENT alone
            return _current_key()
        return _key_set().current


def verification_keys() -> list[SigningKey]:
    """The keys that verify: the current one and the previous one (if any), from the cache."""
    with _lock:
        return list(_key_set().accepted.values())


def verification_key(kid: str) -> SigningKey | None:
    """The key named kid if it is the current or the previous one; None for any other."""
    if not _VERSION_ID.fullmatch(kid):
        return None  # no key is named so: refused without asking
    with _lock:
        stages = _providers().stages
        requests = {stage: provider.requests for stage, provider in stages.items()}
        if _learned is None and (current := _current_key()).kid == kid:
            return current  # nearly every token: AWSPREVIOUS need not be read
        key_set = _key_set()
        known = key_set.accepted.get(kid)
        if known is not None:
            return known
        global _last_lookup
        now = time.monotonic()
        if _last_lookup is not None and now - _last_lookup < _LOOKUP_INTERVAL_SECONDS:
            return None
        _last_lookup = now
        # Fetch again the stages this very call did not.
        fresh = {
            stage for stage, provider in stages.items() if provider.requests != requests[stage]
        }
        return _look_up(kid, key_set if fresh == set(stages) else _key_set(force=True, fresh=fresh))


def _current_key(*, force: bool = False) -> SigningKey:
    """The AWSCURRENT stage's key. Read alone when it is all a call needs: a cold start that
    signs or verifies with the current key makes one Secrets Manager request, not two."""
    return _signing_key(_stage_version(CURRENT, force=force, missing_ok=False))


def _key_set(*, force: bool = False, fresh: Collection[str] = ()) -> _KeySet:
    """Both stages' keys; `force` fetches again each stage not in `fresh` (just read)."""
    global _learned
    current = _current_key(force=force and CURRENT not in fresh)
    accepted = {current.kid: current}
    # There is no AWSPREVIOUS before the first rotation.
    previous_version = _stage_version(
        PREVIOUS, force=force and PREVIOUS not in fresh, missing_ok=True
    )
    if previous_version:
        previous = _signing_key(previous_version)
        accepted[previous.kid] = previous
    if _learned is not None:
        if _learned[0] == frozenset(accepted):
            return _learned[1]
        _learned = None  # the stages have moved on: they are the truth again
    return _KeySet(current=current, accepted=accepted)


def _look_up(kid: str, key_set: _KeySet) -> SigningKey | None:
    """A kid the stages do not show: the version itself, which may be a rotation the
    stages' answers do not show yet."""
    global _learned
    if kid in key_set.accepted:
        return key_set.accepted[kid]
    version = _version_by_id(kid)
    stages = set(version.get("VersionStages") or ())
    if not version or not {CURRENT, PREVIOUS} & stages:
        return None  # unknown, or a version that lost its labels: never verifies again
    key = _signing_key(version)
    if CURRENT in stages:  # the new current key, and the one it replaced as the previous
        learned = _KeySet(current=key, accepted={kid: key, key_set.current.kid: key_set.current})
    else:
        learned = _KeySet(current=key_set.current, accepted={**key_set.accepted, kid: key})
    _learned = (frozenset(key_set.accepted), learned)
    return key


def _stage_version(stage: str, *, force: bool, missing_ok: bool) -> dict[str, Any]:
    """The version labelled stage, from Powertools' cache of SigningKeyCacheSeconds."""
    settings = get_settings()
    version = _read(
        _providers().stages[stage],
        settings.jwt_secret_id,
        max_age=settings.signing_key_cache_seconds,
        force=force,
        VersionStage=stage,
    )
    if not version and not missing_ok:
        raise SecretUnavailableError(f"the secret has no {stage} version")
    return version


def _version_by_id(version_id: str) -> dict[str, Any]:
    """The version with this id ({} when there is none), asked of Secrets Manager itself."""
    secret_id = get_settings().jwt_secret_id
    return _read(_providers().by_id, secret_id, max_age=0, force=True, VersionId=version_id)


def _read(
    provider: VersionProvider, secret_id: str, *, max_age: int, force: bool, **selector: Any
) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        version = provider.get(secret_id, max_age=max_age, force_fetch=force, **selector)
    except GetParameterError as error:
        # Powertools keeps only the message; it names the AWS error, never the secret's value.
        raise SecretUnavailableError(f"Secrets Manager unavailable: {error}") from None
    return version if isinstance(version, dict) else {}


def _signing_key(version: dict[str, Any]) -> SigningKey:
    kid, secret = version.get("VersionId"), version.get("SecretString")
    if not isinstance(kid, str) or not kid:
        raise SecretUnavailableError("secret version has no VersionId")
    if not isinstance(secret, str) or not secret:
        raise SecretUnavailableError("secret has no SecretString")
    return SigningKey(kid=kid, secret=secret)


def forget_cached_key() -> None:
    """Drop the cached keys and the client (tests: a new container)."""
    global _learned, _last_lookup
    with _lock:
        _providers.cache_clear()
        secretsmanager_client.cache_clear()
        _learned = None
        _last_lookup = None
