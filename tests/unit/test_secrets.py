"""The JWT signing key through the Parameters and Secrets Lambda Extension (a local stand-in)."""

from __future__ import annotations

import pytest

from lockbox import secrets
from lockbox.secrets import SecretUnavailableError, forget_cached_key
from lockbox.settings import get_settings
from lockbox_local.ports import free_port


def test_key_is_the_secret_string(jwt_signing_key: str) -> None:
    """Given the extension serving the secret, the key is its SecretString."""
    assert secrets.jwt_signing_key() == jwt_signing_key


def test_key_is_fetched_once_then_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given two calls, the extension is asked once."""
    fetched: list[str] = []

    def fetch(secret_id: str) -> str:
        fetched.append(secret_id)
        return "k" * 40

    monkeypatch.setattr(secrets, "_fetch_secret_string", fetch)

    assert secrets.jwt_signing_key() == secrets.jwt_signing_key() == "k" * 40
    assert fetched == ["lockbox/test/jwt-signing-key"]


def test_forgetting_the_key_fetches_it_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the cache dropped, the next call asks the extension again."""
    fetched: list[str] = []

    def fetch(secret_id: str) -> str:
        fetched.append(secret_id)
        return "k"

    monkeypatch.setattr(secrets, "_fetch_secret_string", fetch)

    secrets.jwt_signing_key()
    forget_cached_key()
    secrets.jwt_signing_key()

    assert len(fetched) == 2


def test_unreachable_extension_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given nothing listening on the extension port, SecretUnavailableError."""
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))
    get_settings.cache_clear()

    with pytest.raises(SecretUnavailableError, match="unreachable"):
        secrets.jwt_signing_key()


def test_unknown_secret_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a secret id the extension does not know, SecretUnavailableError."""
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()

    with pytest.raises(SecretUnavailableError, match="HTTP 400"):
        secrets.jwt_signing_key()


def test_wrong_session_token_raises_secret_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a session token the extension does not accept, then SecretUnavailableError."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-the-session-token")

    with pytest.raises(SecretUnavailableError, match="HTTP 401"):
        secrets.jwt_signing_key()


def test_failure_is_not_cached(monkeypatch: pytest.MonkeyPatch, jwt_signing_key: str) -> None:
    """Given one failed fetch, the next call tries again and succeeds once the extension is back."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-the-session-token")
    with pytest.raises(SecretUnavailableError):
        secrets.jwt_signing_key()

    monkeypatch.setenv("AWS_SESSION_TOKEN", "test-session-token")

    assert secrets.jwt_signing_key() == jwt_signing_key
