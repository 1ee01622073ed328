"""The JWT signing keys through the Parameters and Secrets Lambda Extension (a local stand-in)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from lockbox.core.settings import get_settings
from lockbox.signing import signing_keys
from lockbox.signing.signing_keys import SecretUnavailableError, SigningKey, forget_cached_key
from lockbox_local.ports import free_port
from tests.support import JWT_KEY_ID


def test_signing_key_is_the_current_version(jwt_signing_key: str) -> None:
    """Given the extension serving the secret, the key is its SecretString and its kid the
    version id."""
    assert signing_keys.signing_key() == SigningKey(kid=JWT_KEY_ID, secret=jwt_signing_key)


def test_before_any_rotation_only_the_current_key_verifies(jwt_signing_key: str) -> None:
    """Given a secret never rotated (no AWSPREVIOUS), its one key verifies, nothing else."""
    assert signing_keys.verification_key(JWT_KEY_ID) == SigningKey(JWT_KEY_ID, jwt_signing_key)
    assert signing_keys.verification_key(str(uuid.uuid4())) is None


def counting_fetches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Record every request to the extension (still answered by the stand-in)."""
    fetched: list[dict[str, str]] = []
    fetch = signing_keys._fetch_version

    def recording(selector: dict[str, str], *, missing_ok: bool) -> dict[str, Any] | None:
        fetched.append(selector)
        return fetch(selector, missing_ok=missing_ok)

    monkeypatch.setattr(signing_keys, "_fetch_version", recording)
    return fetched


def test_keys_are_fetched_once_then_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given several uses, the extension is asked once for the current and previous keys."""
    fetched = counting_fetches(monkeypatch)

    signing_keys.signing_key()
    signing_keys.signing_key()
    signing_keys.verification_key(JWT_KEY_ID)

    assert fetched == [{"versionStage": "AWSCURRENT"}, {"versionStage": "AWSPREVIOUS"}]


def test_no_cache_fetches_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given SIGNING_KEY_CACHE_SECONDS=0, every use asks the extension (it has its own cache)."""
    monkeypatch.setenv("SIGNING_KEY_CACHE_SECONDS", "0")
    get_settings.cache_clear()
    fetched = counting_fetches(monkeypatch)

    signing_keys.signing_key()
    signing_keys.signing_key()

    assert len(fetched) == 4


def test_forgetting_the_keys_fetches_them_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the cache dropped, the next call asks the extension again."""
    fetched = counting_fetches(monkeypatch)

    signing_keys.signing_key()
    forget_cached_key()
    signing_keys.signing_key()

    assert len(fetched) == 4


@pytest.mark.parametrize(
    "kid",
    ["", "short", "x" * 65, "../../secretsmanager/get", "a b c d e f g h i j k l m n o p q r s"],
)
def test_a_kid_that_cannot_be_a_version_id_is_never_looked_up(
    monkeypatch: pytest.MonkeyPatch, kid: str
) -> None:
    """Given a kid that is no Secrets Manager version id (32 to 64 letters, digits, dashes),
    it is refused from the cache alone."""
    signing_keys.signing_key()
    fetched = counting_fetches(monkeypatch)

    assert signing_keys.verification_key(kid) is None
    assert fetched == []


def test_unknown_kids_are_looked_up_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a burst of tokens naming unknown keys (forged), one round of look-ups: the
    keys again and the version itself; the rest are refused without asking."""
    signing_keys.signing_key()
    fetched = counting_fetches(monkeypatch)

    for _ in range(20):
        assert signing_keys.verification_key(str(uuid.uuid4())) is None

    assert [sorted(selector) for selector in fetched] == [
        ["versionStage"],
        ["versionStage"],
        ["versionId"],
    ]


def test_unreachable_extension_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given nothing listening on the extension port, SecretUnavailableError."""
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))
    get_settings.cache_clear()

    with pytest.raises(SecretUnavailableError, match="unreachable"):
        signing_keys.signing_key()


def test_unknown_secret_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a secret id the extension does not know, SecretUnavailableError."""
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()

    with pytest.raises(SecretUnavailableError, match="HTTP 400"):
        signing_keys.signing_key()


def test_wrong_session_token_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a session token the extension does not accept, then SecretUnavailableError."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-the-session-token")

    with pytest.raises(SecretUnavailableError, match="HTTP 401"):
        signing_keys.verification_key(JWT_KEY_ID)


def test_failure_is_not_cached(monkeypatch: pytest.MonkeyPatch, jwt_signing_key: str) -> None:
    """Given one failed fetch, the next call tries again and succeeds once the extension is back."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-the-session-token")
    with pytest.raises(SecretUnavailableError):
        signing_keys.signing_key()

    monkeypatch.setenv("AWS_SESSION_TOKEN", "test-session-token")

    assert signing_keys.signing_key().secret == jwt_signing_key
