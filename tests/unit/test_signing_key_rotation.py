"""Access tokens across signing-key rotations (SPEC "Signing keys").

Each test rotates moto's copy of the secret the way Secrets Manager's rotation ends: a new
AWSCURRENT version, the old one AWSPREVIOUS, older ones unlabelled (kept, unusable).
`forget_cached_key()` is a new container; without it, the container's cache predates the
rotation.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
import jwt
import pytest

from lockbox.signing import signing_keys
from lockbox.signing.signing_keys import forget_cached_key
from lockbox.signing.tokens import InvalidTokenError, issue_access_token, verify_access_token
from tests.support import JWT_ISSUER, JWT_SECRET_ID

USER_ID = "0d6f3a52-1c1e-4f3e-9b8a-4f2f1e7c9a10"
SESSION_ID = "session-1"


class Version:
    def __init__(self, version_id: str, value: str) -> None:
        self.version_id = version_id
        self.value = value


class RotatingSecret:
    """moto's signing-key secret (made by function_environment), rotated on request."""

    def __init__(self) -> None:
        self.client = boto3.client("secretsmanager", region_name="us-east-1")

    def find(self, **selector: str) -> Version:
        answer = self.client.get_secret_value(SecretId=JWT_SECRET_ID, **selector)
        return Version(answer["VersionId"], answer["SecretString"])

    def current(self) -> Version:
        return self.find(VersionStage="AWSCURRENT")

    def rotate(self) -> None:
        # PutSecretValue with AWSCURRENT moves the labels as a finished rotation does.
        self.client.put_secret_value(
            SecretId=JWT_SECRET_ID,
            SecretString=uuid.uuid4().hex + uuid.uuid4().hex,
            VersionStages=["AWSCURRENT"],
        )


@pytest.fixture
def rotating() -> RotatingSecret:
    forget_cached_key()
    return RotatingSecret()


def rotate(secret: RotatingSecret) -> None:
    secret.rotate()


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


def freeze_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the answers by stage are those of now (a view of Secrets Manager that
    does not show the next rotation yet); versions asked for by id are still looked up."""
    stale = {
        stage: signing_keys._stage_version(stage, force=True, missing_ok=True)
        for stage in ("AWSCURRENT", "AWSPREVIOUS")
    }
    monkeypatch.setattr(
        signing_keys, "_stage_version", lambda stage, *, force, missing_ok: stale[stage]
    )


def test_token_names_its_key_by_version_id_not_by_its_value(rotating: RotatingSecret) -> None:
    """Given a new token, its kid is the current version's id, and the key is nowhere in it."""
    version = rotating.current()

    token = issue_access_token(USER_ID, SESSION_ID)

    assert jwt.get_unverified_header(token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": version.version_id,
    }
    assert version.value not in token


def test_current_key_token_is_accepted(rotating: RotatingSecret) -> None:
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID


def test_previous_key_token_is_accepted_and_new_tokens_use_the_new_key(
    rotating: RotatingSecret,
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


def test_key_two_rotations_old_is_refused(rotating: RotatingSecret) -> None:
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
    rotating: RotatingSecret,
) -> None:
    """Given a warm container that sees the newest key's first token, it fetches the keys
    again, so the key that fell out is refused from then on."""
    first = issue_access_token(USER_ID, SESSION_ID)
    assert verify_access_token(first) == USER_ID  # cached: first key current
    rotate(rotating)
    rotate(rotating)
    newest = rotating.current()
    token = jwt.encode(
        claims(), newest.value, algorithm="HS256", headers={"kid": newest.version_id}
    )

    assert verify_access_token(token) == USER_ID
    assert refusal(first) == "UnknownKeyError"


def test_container_whose_cache_predates_the_rotation_accepts_new_tokens(
    rotating: RotatingSecret,
) -> None:
    """Given a warm container (keys cached before the rotation), a token another container
    signed with the new key verifies in it: the unknown kid makes it fetch the keys again."""
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID  # warm cache
    rotate(rotating)
    new = rotating.current()
    fresh_container_token = jwt.encode(
        claims(), new.value, algorithm="HS256", headers={"kid": new.version_id}
    )

    assert verify_access_token(fresh_container_token) == USER_ID


def test_new_key_verifies_even_when_the_stages_do_not_show_the_rotation_yet(
    rotating: RotatingSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the answers by stage still those from before the rotation, the new kid is
    looked up by version id and accepted."""
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID
    freeze_stages(monkeypatch)
    rotate(rotating)
    new = rotating.current()
    token = jwt.encode(claims(), new.value, algorithm="HS256", headers={"kid": new.version_id})

    assert verify_access_token(token) == USER_ID


def test_unlabelled_version_found_by_id_is_still_refused(rotating: RotatingSecret) -> None:
    """Given a key two rotations old that Secrets Manager still keeps without a label
    (it deletes unlabelled versions only later), looking it up by id does not bring it back."""
    first = issue_access_token(USER_ID, SESSION_ID)
    oldest = rotating.current()
    rotate(rotating)
    rotate(rotating)
    forget_cached_key()

    assert rotating.find(VersionId=oldest.version_id).value == oldest.value
    assert refusal(first) == "UnknownKeyError"


def test_unknown_kid_is_refused(rotating: RotatingSecret) -> None:
    """Given the current key but a kid naming no version, refused."""
    current = rotating.current()
    token = jwt.encode(
        claims(), current.value, algorithm="HS256", headers={"kid": str(uuid.uuid4())}
    )

    assert refusal(token) == "UnknownKeyError"


def test_token_without_kid_is_refused(rotating: RotatingSecret) -> None:
    """Given a token signed with the current key but no kid header, refused."""
    current = rotating.current()
    token = jwt.encode(claims(), current.value, algorithm="HS256")

    assert refusal(token) == "UnknownKeyError"


def test_previous_kid_with_the_current_key_is_refused(rotating: RotatingSecret) -> None:
    """Given a token naming the previous key but signed with the current one, refused:
    the kid chooses the key, it is not a hint."""
    previous_kid = kid_of(issue_access_token(USER_ID, SESSION_ID))
    rotate(rotating)
    forget_cached_key()
    current = rotating.current()
    token = jwt.encode(claims(), current.value, algorithm="HS256", headers={"kid": previous_kid})

    assert refusal(token) == "InvalidSignatureError"


def test_other_algorithm_is_refused_before_any_key_lookup(
    rotating: RotatingSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an HS512 token naming an unknown key, refused without asking Secrets Manager."""
    asked: list[str] = []
    monkeypatch.setattr(signing_keys, "_stage_version", lambda stage, **_: asked.append(stage))
    monkeypatch.setattr(signing_keys, "_version_by_id", asked.append)
    token = jwt.encode(claims(), "k" * 64, algorithm="HS512", headers={"kid": str(uuid.uuid4())})

    assert refusal(token) == "InvalidAlgorithmError"
    assert asked == []


def test_a_looked_up_current_key_drops_the_key_two_rotations_old(
    rotating: RotatingSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the answers by stage still those of one rotation ago (current and
    previous), a token of the newest key is accepted and, from then on, the oldest key's
    tokens are refused: the container keeps only the newest key and the one before it."""
    oldest = issue_access_token(USER_ID, SESSION_ID)
    rotate(rotating)
    forget_cached_key()
    assert verify_access_token(oldest) == USER_ID  # previous, still accepted
    freeze_stages(monkeypatch)
    rotate(rotating)
    newest = rotating.current()
    token = jwt.encode(
        claims(), newest.value, algorithm="HS256", headers={"kid": newest.version_id}
    )

    assert verify_access_token(token) == USER_ID
    assert refusal(oldest) == "UnknownKeyError"
