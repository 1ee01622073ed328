"""Signing-key rotation end to end (SPEC "Signing keys"), on a local stack of its own.

The stack keeps its key in a data dir, and `python -m lockbox_local.rotate_key` (what
`make rotate-key` runs) rotates it there as Secrets Manager's rotation would; the running
stack picks the change up. The stack runs with SigningKeyCacheSeconds=0 and
AuthorizerCacheTtl=0, so what a deployed stack does within those caches' lifetimes (and the
extension's) is visible at once. Local stack only: a deployed stack's key rotates on
Secrets Manager's schedule, not on request.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.helpers import assert_error, fetch, jwt_parts, login, new_user, store, unique_key
from tests.e2e.rotation import rotate_key, run_rotate_key
from tests.local_stack import LocalStackProcess
from tests.support import age_kept_key

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="rotates the local stack's key; a deployed stack rotates on its schedule",
    ),
]


FOUR_HOURS = 4 * 3600


@pytest.fixture(scope="module")
def rotating_stack() -> Iterator[LocalStackProcess]:
    with tempfile.TemporaryDirectory(prefix="lockbox-e2e-rotation-") as work_dir:
        stack = LocalStackProcess(
            Path(work_dir),
            in_memory=False,
            extra_args=(
                "--workers-per-function",
                "2",
                "--parameter",
                "SigningKeyCacheSeconds=0",
                "--parameter",
                "AuthorizerCacheTtl=0",
                "--parameter",
                "BcryptCost=4",
            ),
        )
        stack.wait_until_serving()
        try:
            yield stack
        finally:
            stack.stop()


def kid(token: str) -> str:
    header, _, _ = jwt_parts(token)
    assert header["alg"] == "HS256"
    return str(header["kid"])


def stored_stages(stack: LocalStackProcess) -> dict[str, list[str]]:
    path = stack.data_dir / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    versions = json.loads(path.read_text())["JwtSigningKey"]["versions"]
    return {version["VersionId"]: version["VersionStages"] for version in versions}


def test_tokens_survive_one_rotation_and_not_two(rotating_stack: LocalStackProcess) -> None:
    """Given a token issued before a rotation, it works after it, as does one issued after;
    after a second rotation the first (signed with a key two rotations old) is refused."""
    url = rotating_stack.url
    key = unique_key("rotation")
    with requests.Session() as http:
        user = new_user(http, url)
        first = user.token
        assert store(http, url, first, key, "kept across rotations").status_code == 200
        assert stored_stages(rotating_stack) == {kid(first): ["AWSCURRENT"]}

        assert "AWSCURRENT" in rotate_key(rotating_stack.data_dir)

        assert fetch(http, url, first, key).status_code == 200  # the previous key verifies
        second = login(http, url, user.username, user.password)
        assert kid(second) != kid(first)  # new tokens use the new key
        assert fetch(http, url, second, key).status_code == 200
        assert stored_stages(rotating_stack) == {
            kid(second): ["AWSCURRENT"],
            kid(first): ["AWSPREVIOUS"],
        }

        age_kept_key(rotating_stack.data_dir, FOUR_HOURS)  # the next rotation is due
        rotate_key(rotating_stack.data_dir)

        assert_error(fetch(http, url, first, key), 401, "INVALID_TOKEN")
        assert fetch(http, url, second, key).status_code == 200
        third = login(http, url, user.username, user.password)
        assert kid(third) not in {kid(first), kid(second)}
        assert fetch(http, url, third, key).status_code == 200
        assert set(stored_stages(rotating_stack)) == {kid(third), kid(second)}


def test_rotation_is_kept_across_a_restart_of_the_stack(tmp_path: Path) -> None:
    """Given a rotated data dir, a stack started on it serves the rotated keys: tokens
    issued before the restart with either key keep working."""
    stack = LocalStackProcess(tmp_path, in_memory=False, extra_args=("--parameter", "BcryptCost=4"))
    stack.wait_until_serving()
    try:
        with requests.Session() as http:
            user = new_user(http, stack.url)
            key = unique_key("restart")
            assert store(http, stack.url, user.token, key, 1).status_code == 200
            rotate_key(stack.data_dir)
    finally:
        stack.stop()

    restarted = LocalStackProcess(tmp_path, in_memory=False)
    restarted.wait_until_serving()
    try:
        with requests.Session() as http:
            assert fetch(http, restarted.url, user.token, key).status_code == 200
            newer = login(http, restarted.url, user.username, user.password)
            assert kid(newer) != kid(user.token)
            assert fetch(http, restarted.url, newer, key).status_code == 200
    finally:
        restarted.stop()


def test_rotate_key_without_a_stored_key_says_what_to_do(tmp_path: Path) -> None:
    result = run_rotate_key(tmp_path)

    assert result.returncode == 2
    assert "start the local stack once" in result.stderr


def test_a_rotation_soon_after_the_last_is_refused_and_changes_nothing(
    rotating_stack: LocalStackProcess,
) -> None:
    """Given a rotation just made, another one at once is refused by the rotation function
    (a container may still sign with the key it would drop): the kept keys stay as they are,
    and tokens of the current and the previous key both keep working."""
    url = rotating_stack.url
    key = unique_key("spacing")
    with requests.Session() as http:
        user = new_user(http, url)
        before = user.token
        assert store(http, url, before, key, 1).status_code == 200
        age_kept_key(rotating_stack.data_dir, FOUR_HOURS)
        rotate_key(rotating_stack.data_dir)
        after = login(http, url, user.username, user.password)
        stages = stored_stages(rotating_stack)

        refused = run_rotate_key(rotating_stack.data_dir)

        assert refused.returncode == 1
        assert "rotations must be at least" in refused.stderr
        assert stored_stages(rotating_stack) == stages
        assert fetch(http, url, before, key).status_code == 200
        assert fetch(http, url, after, key).status_code == 200
