"""The JWT signing keys from Secrets Manager (moto) through Powertools' Parameters utility."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from lockbox.core.settings import get_settings
from lockbox.signing import signing_keys
from lockbox.signing.signing_keys import SecretUnavailableError, SigningKey, forget_cached_key
from tests.support import JWT_KEY_ID, JWT_SECRET_ID, secrets_manager_unreachable


def test_signing_key_is_the_current_version(jwt_signing_key: str) -> None:
    """Given Secrets Manager serving the secret, the key is its SecretString and its kid the
    version id."""
    assert signing_keys.signing_key() == SigningKey(kid=JWT_KEY_ID, secret=jwt_signing_key)


def test_before_any_rotation_only_the_current_key_verifies(jwt_signing_key: str) -> None:
    """Given a secret never rotated (no AWSPREVIOUS), its one key verifies, nothing else."""
    assert signing_keys.verification_key(JWT_KEY_ID) == SigningKey(JWT_KEY_ID, jwt_signing_key)
    assert signing_keys.verification_key(str(uuid.uuid4())) is None


def counting_fetches() -> list[dict[str, str]]:
    """Record every GetSecretValue the functions' client sends from now on (its selector)."""
    fetched: list[dict[str, str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        fetched.append({k: v for k, v in params.items() if k in ("VersionStage", "VersionId")})

    client = signing_keys.secretsmanager_client()
    client.meta.events.register("provide-client-params.secrets-manager.GetSecretValue", record)
    return fetched


def test_keys_are_fetched_once_then_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given several uses of the current key, Secrets Manager is asked once, for it alone."""
    fetched = counting_fetches()

    signing_keys.signing_key()
    signing_keys.signing_key()
    signing_keys.verification_key(JWT_KEY_ID)

    assert fetched == [{"VersionStage": "AWSCURRENT"}]


def test_the_previous_key_is_read_when_a_token_names_another_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a token naming a key that is not the current one, the previous stage is read
    once (cached like the current one), then the version itself is looked up."""
    signing_keys.signing_key()
    fetched = counting_fetches()

    assert signing_keys.verification_key(str(uuid.uuid4())) is None

    assert [sorted(selector) for selector in fetched] == [
        ["VersionStage"],  # AWSPREVIOUS, for the first time
        ["VersionStage"],  # AWSCURRENT again: the unknown kid may be a newer key
        ["VersionId"],
    ]
    assert fetched[0] == {"VersionStage": "AWSPREVIOUS"}


def test_no_cache_fetches_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given SIGNING_KEY_CACHE_SECONDS=0, every use asks Secrets Manager."""
    monkeypatch.setenv("SIGNING_KEY_CACHE_SECONDS", "0")
    get_settings.cache_clear()
    fetched = counting_fetches()

    signing_keys.signing_key()
    signing_keys.signing_key()

    assert fetched == [{"VersionStage": "AWSCURRENT"}] * 2


def test_forgetting_the_keys_fetches_them_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the cache dropped (a new container), the next call asks Secrets Manager again."""
    signing_keys.signing_key()
    forget_cached_key()
    fetched = counting_fetches()

    signing_keys.signing_key()

    assert fetched == [{"VersionStage": "AWSCURRENT"}]


@pytest.mark.parametrize(
    "kid",
    ["", "short", "x" * 65, "../../secret/../other", "a b c d e f g h i j k l m n o p q r s"],
)
def test_a_kid_that_cannot_be_a_version_id_is_never_looked_up(
    monkeypatch: pytest.MonkeyPatch, kid: str
) -> None:
    """Given a kid that is no Secrets Manager version id (32 to 64 letters, digits, dashes),
    it is refused from the cache alone."""
    signing_keys.signing_key()
    fetched = counting_fetches()

    assert signing_keys.verification_key(kid) is None
    assert fetched == []


def test_unknown_kids_are_looked_up_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a burst of tokens naming unknown keys (forged), one round of look-ups: the
    keys again and the version itself; the rest are refused without asking."""
    signing_keys.verification_keys()  # both stages cached
    fetched = counting_fetches()

    for _ in range(20):
        assert signing_keys.verification_key(str(uuid.uuid4())) is None

    assert [sorted(selector) for selector in fetched] == [
        ["VersionStage"],
        ["VersionStage"],
        ["VersionId"],
    ]


def test_unreachable_secrets_manager_raises_secret_unavailable() -> None:
    """Given Secrets Manager unreachable, SecretUnavailableError."""
    secrets_manager_unreachable()

    with pytest.raises(SecretUnavailableError, match="Secrets Manager unavailable"):
        signing_keys.signing_key()


def test_unknown_secret_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a secret id Secrets Manager does not know, SecretUnavailableError."""
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()

    with pytest.raises(SecretUnavailableError, match="no AWSCURRENT version"):
        signing_keys.signing_key()


def test_failure_is_not_cached(jwt_signing_key: str) -> None:
    """Given one failed fetch, the next call tries again and succeeds once Secrets Manager
    answers."""
    reachable_again = secrets_manager_unreachable()
    with pytest.raises(SecretUnavailableError):
        signing_keys.signing_key()

    reachable_again()

    assert signing_keys.signing_key().secret == jwt_signing_key


def test_each_stage_is_cached_apart(jwt_signing_key: str) -> None:
    """Given a rotated secret, the current and previous keys are both right: Powertools
    caches by secret name alone, so each stage has its own provider."""
    import boto3

    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=JWT_SECRET_ID, SecretString="n" * 64, VersionStages=["AWSCURRENT"]
    )

    assert signing_keys.signing_key().secret == "n" * 64
    assert signing_keys.verification_key(JWT_KEY_ID) == SigningKey(JWT_KEY_ID, jwt_signing_key)
