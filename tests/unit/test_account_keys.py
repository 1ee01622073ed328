"""The account keys (password pepper, TOTP encryption key) from Secrets Manager (moto)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import boto3
import pytest

from lockbox.signing import account_keys
from lockbox.signing.account_keys import DerivedKey, Purpose, current_key, key_version
from lockbox.signing.signing_keys import SecretUnavailableError, secretsmanager_client
from tests.support import ACCOUNT_KEYS, ACCOUNT_KEYS_SECRET_ID


def derived(master: str, purpose: Purpose) -> bytes:
    return hmac.new(master.encode(), purpose.value.encode(), hashlib.sha256).digest()


def store_document(document: dict[str, str]) -> None:
    """Given the secret's value replaced (a deployer adding a master key)."""
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=ACCOUNT_KEYS_SECRET_ID, SecretString=json.dumps(document)
    )


def counting_reads() -> list[str]:
    """Record every GetSecretValue of the account keys from now on."""
    reads: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if params["SecretId"] == ACCOUNT_KEYS_SECRET_ID:
            reads.append(params["SecretId"])

    events = secretsmanager_client().meta.events
    events.register("provide-client-params.secrets-manager.GetSecretValue", record)
    return reads


def test_current_key_is_derived_from_the_current_master_key() -> None:
    """Given the document {"current": "1", "1": k}, the key is HMAC-SHA256(k, label), version 1."""
    key = current_key(Purpose.PASSWORD_PEPPER)

    assert key == DerivedKey("1", derived(ACCOUNT_KEYS["1"], Purpose.PASSWORD_PEPPER))
    assert len(key.key) == 32


def test_each_purpose_has_its_own_key() -> None:
    """Given one master key, the pepper and the TOTP key differ (one reveals nothing of the other)."""
    assert current_key(Purpose.PASSWORD_PEPPER).key != current_key(Purpose.TOTP_SECRET).key


def test_the_document_is_read_once_then_cached() -> None:
    """Given several uses, Secrets Manager is asked once."""
    reads = counting_reads()

    current_key(Purpose.PASSWORD_PEPPER)
    current_key(Purpose.TOTP_SECRET)
    key_version(Purpose.PASSWORD_PEPPER, "1")

    assert len(reads) == 1


def test_an_older_master_key_still_gives_its_key() -> None:
    """Given a second master key made current, data under version 1 stays readable."""
    newer = secrets.token_urlsafe(48)
    store_document({"current": "2", "1": ACCOUNT_KEYS["1"], "2": newer})

    assert current_key(Purpose.TOTP_SECRET) == DerivedKey("2", derived(newer, Purpose.TOTP_SECRET))
    assert key_version(Purpose.TOTP_SECRET, "1") == derived(ACCOUNT_KEYS["1"], Purpose.TOTP_SECRET)


def test_a_version_newer_than_the_cache_is_read_afresh() -> None:
    """Given a container whose cached document predates a new master key, the new version is
    found with one fresh read."""
    current_key(Purpose.PASSWORD_PEPPER)
    newer = secrets.token_urlsafe(48)
    store_document({"current": "2", "1": ACCOUNT_KEYS["1"], "2": newer})
    reads = counting_reads()

    assert key_version(Purpose.PASSWORD_PEPPER, "2") == derived(newer, Purpose.PASSWORD_PEPPER)
    assert len(reads) == 1


def test_an_unknown_version_is_none_and_looked_up_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given versions the secret never had, the answer is None and only the first asks again
    within the interval (here an hour, so that a slow machine cannot pass a second)."""
    from lockbox.signing import account_keys

    assert account_keys._LOOKUP_INTERVAL_SECONDS == 1.0
    monkeypatch.setattr(account_keys, "_LOOKUP_INTERVAL_SECONDS", 3600.0)
    current_key(Purpose.PASSWORD_PEPPER)
    reads = counting_reads()

    assert key_version(Purpose.PASSWORD_PEPPER, "7") is None
    assert key_version(Purpose.PASSWORD_PEPPER, "8") is None
    assert key_version(Purpose.PASSWORD_PEPPER, "current") is None
    assert len(reads) == 1


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps(["1"]),
        json.dumps({"1": "k" * 64}),
        json.dumps({"current": "2", "1": "k" * 64}),
        json.dumps({"current": "1", "1": ""}),
    ],
)
def test_a_malformed_document_is_unavailable(value: str) -> None:
    """Given a secret that is not {"current": n, n: key}, using it fails clearly, naming no key."""
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=ACCOUNT_KEYS_SECRET_ID, SecretString=value
    )

    with pytest.raises(SecretUnavailableError) as raised:
        current_key(Purpose.PASSWORD_PEPPER)
    assert "k" * 64 not in str(raised.value)


def test_a_missing_secret_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a secret id Secrets Manager does not know, using the keys fails clearly."""
    from lockbox.core.settings import get_settings

    monkeypatch.setenv("ACCOUNT_KEYS_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()
    account_keys.forget_cached_keys()

    with pytest.raises(SecretUnavailableError, match="account keys unavailable"):
        current_key(Purpose.TOTP_SECRET)
