"""Session security over HTTP: reuse detection over the whole refresh chain, login
protection on the calls that check a password behind a token, ended sessions never coming
back, retried deletions, keys that are not UTF-8, cursors across a key rotation, and the
small input rules of logout, If-Match and login names (SPEC.md, "Sessions", "Account",
"Login protection", "Data", "Signing keys")."""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    ERRORS,
    Lockout,
    auth_headers,
    five_failures,
    login,
    new_user,
    request_token,
    store,
    unique_suffix,
    within_lockouts,
)
from tests.e2e.rotation import rotate_key
from tests.local_stack import LocalStackProcess
from tests.support import age_kept_key

GRACE_SECONDS = 10


def log_in(http: requests.Session, api_url: str, username: str, password: str) -> dict[str, Any]:
    response = request_token(http, api_url, username, password)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def refresh(http: requests.Session, api_url: str, refresh_token: object) -> requests.Response:
    return http.post(f"{api_url}/api/token/refresh", json={"refresh_token": refresh_token})


def refreshed(http: requests.Session, api_url: str, refresh_token: str) -> dict[str, Any]:
    response = refresh(http, api_url, refresh_token)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def account(http: requests.Session, api_url: str, access_token: str) -> requests.Response:
    return http.get(f"{api_url}/api/account", headers=auth_headers(access_token))


def assert_error(response: requests.Response, code: str) -> None:
    status, message = ERRORS[code]
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"] == message


# --- reuse detection over the whole chain -------------------------------------------------


def test_a_thief_who_refreshed_twice_loses_the_session_to_the_original_token(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)
    stolen = log_in(http, api_url, user.username, user.password)
    second = refreshed(http, api_url, stolen["refresh_token"])
    thief = refreshed(http, api_url, second["refresh_token"])
    made_up = ".".join([*thief["refresh_token"].split(".")[:3], "0", "C" * 43, "D" * 43])
    assert_error(refresh(http, api_url, made_up), "INVALID_REFRESH_TOKEN")
    time.sleep(GRACE_SECONDS + 1)
    assert account(http, api_url, second["access_token"]).status_code == 200  # made-up: no effect

    assert_error(refresh(http, api_url, stolen["refresh_token"]), "INVALID_REFRESH_TOKEN")

    assert_error(refresh(http, api_url, thief["refresh_token"]), "INVALID_REFRESH_TOKEN")
    # Never used, so no authorizer decision is cached for it: refused at once.
    assert_error(account(http, api_url, thief["access_token"]), "INVALID_TOKEN")


def test_the_last_rotated_token_within_the_grace_window_spares_a_long_chain(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)
    chain = [log_in(http, api_url, user.username, user.password)]
    for _ in range(3):
        chain.append(refreshed(http, api_url, chain[-1]["refresh_token"]))

    assert_error(refresh(http, api_url, chain[-2]["refresh_token"]), "INVALID_REFRESH_TOKEN")

    assert refreshed(http, api_url, chain[-1]["refresh_token"])["refresh_token"]


# --- login protection behind a token ------------------------------------------------------


def change_password(
    http: requests.Session, api_url: str, access_token: str, current: str, new: str
) -> requests.Response:
    return http.post(
        f"{api_url}/api/password",
        json={"current_password": current, "new_password": new},
        headers=auth_headers(access_token),
    )


def delete_account(
    http: requests.Session, api_url: str, access_token: str, password: str
) -> requests.Response:
    return http.delete(
        f"{api_url}/api/account", json={"password": password}, headers=auth_headers(access_token)
    )


def test_password_guesses_behind_a_token_are_locked_out(
    http: requests.Session, api_url: str
) -> None:
    """Wrong current passwords on /api/password and /api/account count in the name's login
    protection: the sixth check is 429 with Retry-After, and so is /api/token."""

    def scenario(lockout: Lockout) -> list[requests.Response]:
        user = new_user(http, api_url)
        wrong = "wrong-password-0"
        guesses = itertools.cycle(
            [
                lambda: change_password(http, api_url, user.token, wrong, "new_pw_1234"),
                lambda: delete_account(http, api_url, user.token, wrong),
            ]
        )
        for failure in five_failures(lambda: next(guesses)(), lockout):
            assert_error(failure, "INVALID_CREDENTIALS")
        return [
            change_password(http, api_url, user.token, user.password, "new_pw_1234"),
            delete_account(http, api_url, user.token, user.password),
            request_token(http, api_url, user.username, user.password),
        ]

    locked, deletion, login_attempt = within_lockouts(scenario)

    assert_error(locked, "TOO_MANY_REQUESTS")
    assert int(locked.headers["Retry-After"]) >= 1
    assert_error(deletion, "TOO_MANY_REQUESTS")
    assert_error(login_attempt, "TOO_MANY_REQUESTS")


def test_long_login_names_are_counted(http: requests.Session, api_url: str) -> None:
    def scenario(lockout: Lockout) -> requests.Response:
        name = unique_suffix() + "n" * 284  # 300 characters
        for failure in five_failures(
            lambda: request_token(http, api_url, name, "wrong-password-0"), lockout
        ):
            assert_error(failure, "INVALID_CREDENTIALS")
        return request_token(http, api_url, name, "wrong-password-0")

    assert_error(within_lockouts(scenario), "TOO_MANY_REQUESTS")


# --- ended sessions never come back --------------------------------------------------------


def test_a_cached_token_of_an_ended_session_cannot_change_the_password_or_revive_it(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)
    ended = log_in(http, api_url, user.username, user.password)
    unused = refreshed(http, api_url, ended["refresh_token"])
    other = log_in(http, api_url, user.username, user.password)
    assert account(http, api_url, ended["access_token"]).status_code == 200  # now cached
    logout = http.post(
        f"{api_url}/api/logout", json={"all": True}, headers=auth_headers(other["access_token"])
    )
    assert logout.status_code == 200, logout.text

    refused = change_password(http, api_url, ended["access_token"], user.password, "new_pw_1234")

    assert_error(refused, "INVALID_TOKEN")
    assert_error(refresh(http, api_url, unused["refresh_token"]), "INVALID_REFRESH_TOKEN")
    assert_error(account(http, api_url, unused["access_token"]), "INVALID_TOKEN")
    profile = http.get(f"{api_url}/users/profile", headers=auth_headers(unused["access_token"]))
    assert profile.status_code == 401
    log_in(http, api_url, user.username, user.password)  # the password is unchanged


# --- simultaneous deletions --------------------------------------------------------------


def test_simultaneous_deletions_with_the_right_password(
    http: requests.Session, api_url: str
) -> None:
    user = new_user(http, api_url)

    def one(_: int) -> requests.Response:
        with requests.Session() as session:
            return delete_account(session, api_url, user.token, user.password)

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(one, range(5)))

    statuses = sorted(response.status_code for response in answers)
    assert 200 in statuses, [r.text for r in answers]
    for response in answers:
        if response.status_code != 200:
            assert_error(response, "INVALID_TOKEN")


# --- keys that are not UTF-8 ---------------------------------------------------------------


def test_undecodable_bytes_in_a_key_or_prefix_are_invalid_key(
    http: requests.Session, api_url: str
) -> None:
    """`%FF` is not UTF-8: the key and the prefix are INVALID_KEY, never U+FFFD; and a key
    that really is U+FFFD is refused as well (a gateway may have put it there)."""
    user = new_user(http, api_url)
    headers = auth_headers(user.token)
    for path in ("/api/data/%FF", "/api/data/a%FFb", "/api/data/%EF%BF%BD"):
        for method in ("GET", "PUT", "DELETE"):
            response = http.request(method, f"{api_url}{path}", json={"value": 1}, headers=headers)
            assert_error(response, "INVALID_KEY")
    listing = http.get(f"{api_url}/api/data?prefix=%FF", headers=headers)
    assert_error(listing, "INVALID_KEY")
    assert listing.json()["details"][0]["field"] == "prefix"
    stored = http.post(f"{api_url}/api/data", json={"key": "\ufffd", "value": 1}, headers=headers)
    assert_error(stored, "INVALID_KEY")


# --- small input rules ------------------------------------------------------------------


def test_logout_with_all_null_is_invalid_request(http: requests.Session, api_url: str) -> None:
    user = new_user(http, api_url)

    response = http.post(f"{api_url}/api/logout", json={"all": None}, headers=user.headers)

    assert_error(response, "INVALID_REQUEST")
    assert response.json()["details"][0]["field"] == "all"
    assert account(http, api_url, user.token).status_code == 200  # still logged in


def test_if_match_over_two_header_lines(http: requests.Session, api_url: str) -> None:
    """Two If-Match lines are one list (RFC 9110): the second line's tag does not hide the
    first one's."""
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    user = new_user(http, api_url)
    key = f"if-match-{time.time_ns()}"
    stored = http.post(f"{api_url}/api/data", json={"key": key, "value": 1}, headers=user.headers)
    assert stored.status_code == 200, stored.text
    etag = stored.headers["ETag"]
    target = urlsplit(api_url)
    assert target.hostname is not None
    connection = HTTPConnection(target.hostname, target.port, timeout=30)
    try:
        connection.putrequest("DELETE", f"{target.path}/api/data/{key}")
        connection.putheader("Authorization", f"Bearer {user.token}")
        connection.putheader("If-Match", etag)
        connection.putheader("If-Match", '"not-the-etag"')
        connection.endheaders()
        answer = connection.getresponse()
        status = answer.status
        answer.read()
    finally:
        connection.close()

    assert status == 200


# --- cursors across a signing-key rotation ------------------------------------------------


FOUR_HOURS = 4 * 3600


@pytest.mark.skipif(
    bool(os.environ.get("API_URL", "").strip()),
    reason="rotates the local stack's key; a deployed stack rotates on its schedule",
)
def test_a_list_cursor_survives_a_key_rotation(tmp_path: Path) -> None:
    """On a stack of its own whose functions see a rotation at once (no key cache), a cursor
    handed out before the rotation still pages on after it; after a second one it is
    refused (its key is two rotations old)."""
    stack = LocalStackProcess(
        tmp_path,
        in_memory=False,
        extra_args=("--parameter", "SigningKeyCacheSeconds=0", "--parameter", "BcryptCost=4"),
    )
    stack.wait_until_serving()
    try:
        with requests.Session() as http:
            user = new_user(http, stack.url)
            for key in ("c1", "c2", "c3"):
                assert store(http, stack.url, user.token, key, 1).status_code == 200
            first = http.get(f"{stack.url}/api/data?limit=1", headers=user.headers)
            cursor = first.json()["data"]["cursor"]
            rotate_key(stack.data_dir)
            token = login(http, stack.url, user.username, user.password)

            after = http.get(
                f"{stack.url}/api/data",
                params={"limit": 1, "cursor": cursor},
                headers=auth_headers(token),
            )

            assert after.status_code == 200, after.text
            assert [k["key"] for k in after.json()["data"]["keys"]] == ["c2"]
            age_kept_key(stack.data_dir, FOUR_HOURS)  # the next rotation is due
            rotate_key(stack.data_dir)
            token = login(http, stack.url, user.username, user.password)
            stale = http.get(
                f"{stack.url}/api/data",
                params={"limit": 1, "cursor": cursor},
                headers=auth_headers(token),
            )
            assert_error(stale, "INVALID_PARAMETER")
    finally:
        stack.stop()
