"""Access tokens across signing-key rotations (SPEC "Signing keys").

Each test has its own secrets extension stand-in whose secret it rotates the way Secrets
Manager's rotation ends: a new AWSCURRENT version, the old one AWSPREVIOUS, older ones
unlabelled. `forget_cached_key()` is a new container; without it, the container's cache
predates the rotation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import jwt
import pytest

from lockbox.core.settings import get_settings
from lockbox.signing import signing_keys
from lockbox.signing.signing_keys import forget_cached_key
from lockbox.signing.tokens import InvalidTokenError, issue_access_token, verify_access_token
from lockbox_local.local_secrets import LocalSecret, LocalSecrets
from lockbox_local.secrets_extension import SecretsExtensionServer
from tests.support import JWT_ISSUER, JWT_SECRET_ID, SESSION_TOKEN

USER_ID = "0d6f3a52-1c1e-4f3e-9b8a-4f2f1e7c9a10"
SESSION_ID = "session-1"


@pytest.fixture
def rotating(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSecrets]:
    """A stand-in of our own, serving a secret the test rotates."""
    local = LocalSecrets.of_values({JWT_SECRET_ID: "first-signing-key-" + "k" * 46})
    server = SecretsExtensionServer(local, SESSION_TOKEN).start()
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(server.port))
    get_settings.cache_clear()
    forget_cached_key()
    yield local
    server.stop()


def rotate(local: LocalSecrets) -> None:
    local.rotate(JWT_SECRET_ID)


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def refusal(token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        verify_access_token(token)
    return str(caught.value)


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": USER_ID,
        "iat": now,
        "exp": now + 3600,
        "iss": JWT_ISSUER,
        "aud": "lockbox-api-clients",
        "jti": uuid.uuid4().hex,
        "sid": SESSION_ID,
    }


def freeze_extension_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the extension answers the version stages as they are now (its own cache
    not refreshed yet); versions asked for by id are still looked up."""
    stale = {
        stage: signing_keys._fetch_version({"versionStage": stage}, missing_ok=True)
        for stage in ("AWSCURRENT", "AWSPREVIOUS")
    }
    fetch = signing_keys._fetch_version

    def stale_stages(selector: dict[str, str], *, missing_ok: bool) -> dict[str, Any] | None:
        if "versionStage" in selector:
            return stale[selector["versionStage"]]
        return fetch(selector, missing_ok=missing_ok)

    monkeypatch.setattr(signing_keys, "_fetch_version", stale_stages)


def test_token_names_its_key_by_version_id_not_by_its_value(rotating: LocalSecrets) -> None:
    """Given a new token, its kid is the current version's id, and the key is nowhere in it."""
    current = rotating.get(JWT_SECRET_ID)
    assert current is not None
    version = current.find()
    assert version is not None

    token = issue_access_token(USER_ID, SESSION_ID)

    assert jwt.get_unverified_header(token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": version.version_id,
    }
    assert version.value not in token


def test_current_key_token_is_accepted(rotating: LocalSecrets) -> None:
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID


def test_previous_key_token_is_accepted_and_new_tokens_use_the_new_key(
    rotating: LocalSecrets,
) -> None:
    """Given a token issued before a rotation, it still verifies after it (in a new
    container too); tokens issued after it name the new key."""
    before = issue_access_token(USER_ID, SESSION_ID)
    rotate(rotating)
    forget_cached_key()

    after = issue_access_token(USER_ID, SESSION_ID)

    assert kid_of(after) != kid_of(before)
    assert verify_access_token(before) == USER_ID
    assert verify_access_token(after) == USER_ID


def test_key_two_rotations_old_is_refused(rotating: LocalSecrets) -> None:
    """Given a token signed with a key two rotations old, it is refused."""
    first = issue_access_token(USER_ID, SESSION_ID)
    rotate(rotating)
    forget_cached_key()
    second = issue_access_token(USER_ID, SESSION_ID)
    rotate(rotating)
    forget_cached_key()

    assert refusal(first) == "UnknownKeyError"
    assert verify_access_token(second) == USER_ID
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID


def test_key_two_rotations_old_is_refused_by_a_container_that_looks_up_a_newer_kid(
    rotating: LocalSecrets,
) -> None:
    """Given a warm container that sees the newest key's first token, it fetches the keys
    again, so the key that fell out is refused from then on."""
    first = issue_access_token(USER_ID, SESSION_ID)
    assert verify_access_token(first) == USER_ID  # cached: first key current
    rotate(rotating)
    rotate(rotating)
    latest = rotating.get(JWT_SECRET_ID)
    assert latest is not None
    newest = latest.find()
    assert newest is not None
    token = jwt.encode(
        claims(), newest.value, algorithm="HS256", headers={"kid": newest.version_id}
    )

    assert verify_access_token(token) == USER_ID
    assert refusal(first) == "UnknownKeyError"


def test_container_whose_cache_predates_the_rotation_accepts_new_tokens(
    rotating: LocalSecrets,
) -> None:
    """Given a warm container (keys cached before the rotation), a token another container
    signed with the new key verifies in it: the unknown kid makes it fetch the keys again."""
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID  # warm cache
    rotate(rotating)
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    new = secret.find()
    assert new is not None
    fresh_container_token = jwt.encode(
        claims(), new.value, algorithm="HS256", headers={"kid": new.version_id}
    )

    assert verify_access_token(fresh_container_token) == USER_ID


def test_new_key_verifies_even_when_the_extension_still_serves_the_old_stages(
    rotating: LocalSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the extension's own cache still answering the stages from before the rotation,
    the new kid is looked up by version id (not cached there yet) and accepted."""
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID
    freeze_extension_stages(monkeypatch)
    rotate(rotating)
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    new = secret.find()
    assert new is not None
    token = jwt.encode(claims(), new.value, algorithm="HS256", headers={"kid": new.version_id})

    assert verify_access_token(token) == USER_ID


def test_unlabelled_version_found_by_id_is_still_refused(
    rotating: LocalSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a key two rotations old that Secrets Manager still keeps without a label
    (it deletes unlabelled versions only later), looking it up by id does not bring it back."""
    first = issue_access_token(USER_ID, SESSION_ID)
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    oldest = secret.find()
    assert oldest is not None
    rotate(rotating)
    rotate(rotating)
    forget_cached_key()
    rotated = rotating.get(JWT_SECRET_ID)
    assert rotated is not None
    kept = LocalSecret((*rotated.versions, replace(oldest, stages=())))
    monkeypatch.setattr(rotating, "get", lambda secret_id: kept)

    assert kept.find(version_id=oldest.version_id) is not None
    assert refusal(first) == "UnknownKeyError"


def test_unknown_kid_is_refused(rotating: LocalSecrets) -> None:
    """Given the current key but a kid naming no version, refused."""
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    current = secret.find()
    assert current is not None
    token = jwt.encode(
        claims(), current.value, algorithm="HS256", headers={"kid": str(uuid.uuid4())}
    )

    assert refusal(token) == "UnknownKeyError"


def test_token_without_kid_is_refused(rotating: LocalSecrets) -> None:
    """Given a token signed with the current key but no kid header, refused."""
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    current = secret.find()
    assert current is not None
    token = jwt.encode(claims(), current.value, algorithm="HS256")

    assert refusal(token) == "UnknownKeyError"


def test_previous_kid_with_the_current_key_is_refused(rotating: LocalSecrets) -> None:
    """Given a token naming the previous key but signed with the current one, refused:
    the kid chooses the key, it is not a hint."""
    previous_kid = kid_of(issue_access_token(USER_ID, SESSION_ID))
    rotate(rotating)
    forget_cached_key()
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    current = secret.find()
    assert current is not None
    token = jwt.encode(claims(), current.value, algorithm="HS256", headers={"kid": previous_kid})

    assert refusal(token) == "InvalidSignatureError"


def test_other_algorithm_is_refused_before_any_key_lookup(
    rotating: LocalSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an HS512 token naming an unknown key, refused without asking the extension."""
    asked: list[dict[str, str]] = []
    monkeypatch.setattr(
        signing_keys, "_fetch_version", lambda selector, **_: asked.append(selector)
    )
    token = jwt.encode(claims(), "k" * 64, algorithm="HS512", headers={"kid": str(uuid.uuid4())})

    assert refusal(token) == "InvalidAlgorithmError"
    assert asked == []


def test_a_looked_up_current_key_drops_the_key_two_rotations_old(
    rotating: LocalSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the extension still answering the stages of one rotation ago (current and
    previous), a token of the newest key is accepted and, from then on, the oldest key's
    tokens are refused: the container keeps only the newest key and the one before it."""
    oldest = issue_access_token(USER_ID, SESSION_ID)
    rotate(rotating)
    forget_cached_key()
    assert verify_access_token(oldest) == USER_ID  # previous, still accepted
    freeze_extension_stages(monkeypatch)
    rotate(rotating)
    secret = rotating.get(JWT_SECRET_ID)
    assert secret is not None
    newest = secret.find()
    assert newest is not None
    token = jwt.encode(
        claims(), newest.value, algorithm="HS256", headers={"kid": newest.version_id}
    )

    assert verify_access_token(token) == USER_ID
    assert refusal(oldest) == "UnknownKeyError"
