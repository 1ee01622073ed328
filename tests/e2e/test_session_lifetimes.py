"""A session's absolute lifetime over HTTP (SPEC "Sessions: devices and lifetimes"), on a
local stack of its own started with SessionMaxLifetime=20: however often it is refreshed,
a session dies 20 s after its login, its refresh token and its access tokens with it.
Local stack only: a deployed stack's parameter is its own (default 90 days).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.helpers import (
    assert_code,
    auth_headers,
    new_user,
    registration_body,
    request_token,
)
from tests.local_stack import LocalStackProcess

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="needs a stack started with SessionMaxLifetime=20",
    ),
]

MAX_LIFETIME = 20


@pytest.fixture(scope="module")
def short_sessions() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lockbox-e2e-lifetime-") as work_dir:
        stack = LocalStackProcess(
            Path(work_dir),
            extra_args=(
                "--parameter",
                f"SessionMaxLifetime={MAX_LIFETIME}",
                "--parameter",
                "BcryptCost=4",
            ),
        )
        stack.wait_until_serving()
        try:
            yield stack.url
        finally:
            stack.stop()


def refresh(http: requests.Session, url: str, refresh_token: str) -> requests.Response:
    return http.post(f"{url}/api/token/refresh", json={"refresh_token": refresh_token})


def test_a_refreshed_session_dies_at_its_max_lifetime(short_sessions: str) -> None:
    """Given a login refreshed every 3 s, each refresh_expires_in is at most the seconds
    left; 20 s after the login the refresh token is refused, and so are its access
    tokens: a used one at once on /users/profile, a never-used one on /api/account."""
    url = short_sessions
    with requests.Session() as http:
        user = new_user(http, url)
        before = time.time()
        login = request_token(http, url, user.username, user.password)
        after = time.time()
        assert login.status_code == 200, login.text
        data = login.json()["data"]
        assert data["refresh_expires_in"] <= MAX_LIFETIME
        refresh_token, access_token = data["refresh_token"], data["access_token"]
        while time.time() + 3 < before + MAX_LIFETIME - 2:
            time.sleep(3)
            answer = refresh(http, url, refresh_token)
            assert answer.status_code == 200, answer.text
            data = answer.json()["data"]
            assert data["expires_in"] == 3600
            assert data["refresh_expires_in"] <= after + MAX_LIFETIME - time.time() + 1
            refresh_token, access_token = data["refresh_token"], data["access_token"]
            assert http.get(f"{url}/users/profile", headers=auth_headers(access_token)).ok
        unused = refresh(http, url, refresh_token)  # one more, not used before the end
        assert unused.status_code == 200, unused.text
        time.sleep(max(0.0, after + MAX_LIFETIME + 0.5 - time.time()))

        assert_code(
            refresh(http, url, unused.json()["data"]["refresh_token"]), "INVALID_REFRESH_TOKEN"
        )
        profile = http.get(f"{url}/users/profile", headers=auth_headers(access_token))
        assert profile.status_code == 401
        never_used = unused.json()["data"]["access_token"]
        assert_code(
            http.get(f"{url}/api/account", headers=auth_headers(never_used)), "INVALID_TOKEN"
        )


def test_a_users_flavour_session_dies_at_its_max_lifetime(short_sessions: str) -> None:
    """Given a /users login, its token is accepted on /users/profile until 20 s after the
    login and refused after."""
    url = short_sessions
    with requests.Session() as http:
        body = registration_body()
        assert http.post(f"{url}/api/register", json=body).status_code == 200
        credentials = {"email": body["email"], "password": body["password"]}
        login = http.post(f"{url}/users/login", json=credentials)
        after = time.time()
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        assert http.get(f"{url}/users/profile", headers=auth_headers(token)).ok
        time.sleep(max(0.0, after + MAX_LIFETIME + 0.5 - time.time()))

        assert http.get(f"{url}/users/profile", headers=auth_headers(token)).status_code == 401
