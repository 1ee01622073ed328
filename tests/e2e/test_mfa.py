"""The second factor over HTTP (SPEC "Second factor (TOTP)"): enrolment with the setup's
secret, the login's two steps, a code accepted once (also among 20 simultaneous logins),
recovery codes used once, turning it off, step-up, and login protection. Codes come from
pyotp with the setup answer's secret; tests use neighbouring steps (one step of drift is
allowed) or recovery codes rather than waiting 30 s for a fresh step."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyotp
import requests

from tests.authenticator import code
from tests.e2e.helpers import (
    TOKEN_ISSUED,
    Lockout,
    User,
    assert_error,
    assert_success,
    auth_headers,
    five_failures,
    new_user,
    request_token,
    within_lockouts,
)


@dataclass(frozen=True)
class Enrolled:
    user: User
    authenticator: pyotp.TOTP
    recovery_codes: list[str]


def enrol(http: requests.Session, api_url: str) -> Enrolled:
    """A new user with the factor on, confirmed with the previous step's code."""
    user = new_user(http, api_url)
    body = assert_success(
        http.post(
            f"{api_url}/api/mfa/totp/setup", json={"password": user.password}, headers=user.headers
        )
    )
    authenticator = pyotp.TOTP(body["data"]["secret"])
    confirmed = assert_success(
        http.post(
            f"{api_url}/api/mfa/totp/confirm",
            json={"code": code(authenticator, -1)},
            headers=user.headers,
        ),
        "Two-factor authentication enabled.",
    )
    return Enrolled(user, authenticator, confirmed["data"]["recovery_codes"])


def mfa_token(http: requests.Session, api_url: str, user: User) -> str:
    body = assert_error(
        request_token(http, api_url, user.username, user.password), 401, "MFA_REQUIRED"
    )
    return str(body["data"]["mfa_token"])


def token_mfa(
    http: requests.Session, api_url: str, token: str, code_text: str
) -> requests.Response:
    return http.post(f"{api_url}/api/token/mfa", json={"mfa_token": token, "code": code_text})


def test_setup_answers_a_secret_and_an_otpauth_uri_with_an_issuer(
    http: requests.Session, api_url: str
) -> None:
    """Given a caller, setup answers an unpadded base32 secret of 160 bits or more and an
    otpauth URI naming a non-empty issuer; nothing changes until confirmed."""
    user = new_user(http, api_url)

    body = assert_success(
        http.post(
            f"{api_url}/api/mfa/totp/setup", json={"password": user.password}, headers=user.headers
        )
    )

    secret = body["data"]["secret"]
    assert "=" not in secret
    assert len(base64.b32decode(secret)) * 8 >= 160
    parsed = pyotp.parse_uri(body["data"]["otpauth_uri"])
    assert parsed.issuer
    assert (parsed.secret, parsed.digits, parsed.interval) == (secret, 6, 30)
    assert request_token(http, api_url, user.username, user.password).status_code == 200


def test_a_wrong_password_on_setup_is_invalid_credentials(
    http: requests.Session, api_url: str
) -> None:
    """Given a wrong password, setup answers 401 INVALID_CREDENTIALS."""
    user = new_user(http, api_url)

    response = http.post(
        f"{api_url}/api/mfa/totp/setup", json={"password": "not-it-1234"}, headers=user.headers
    )

    assert_error(response, 401, "INVALID_CREDENTIALS")


def test_the_login_of_an_enrolled_account_takes_two_steps(
    http: requests.Session, api_url: str
) -> None:
    """Given the factor on, /api/token answers 401 MFA_REQUIRED with data {mfa_token,
    expires_in: 300}; /api/token/mfa with a code answers as /api/token, and its access
    token works."""
    enrolled = enrol(http, api_url)
    user = enrolled.user

    first = assert_error(
        request_token(http, api_url, user.username, user.password), 401, "MFA_REQUIRED"
    )
    second = token_mfa(http, api_url, first["data"]["mfa_token"], code(enrolled.authenticator))

    assert first["message"] == "A second factor is required."
    assert first["data"]["expires_in"] == 300
    body = assert_success(second, TOKEN_ISSUED)
    assert set(body["data"]) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    account = http.get(f"{api_url}/api/account", headers=auth_headers(body["data"]["access_token"]))
    assert account.status_code == 200


def test_a_replayed_code_is_refused(http: requests.Session, api_url: str) -> None:
    """Given a code that logged in, the same code with a new mfa_token is 401
    INVALID_MFA_CODE."""
    enrolled = enrol(http, api_url)
    used = code(enrolled.authenticator, 1)
    assert (
        token_mfa(http, api_url, mfa_token(http, api_url, enrolled.user), used).status_code == 200
    )

    replay = token_mfa(http, api_url, mfa_token(http, api_url, enrolled.user), used)

    assert_error(replay, 401, "INVALID_MFA_CODE")


def test_twenty_simultaneous_logins_with_one_code_yield_exactly_one_200(
    http: requests.Session, api_url: str
) -> None:
    """Given 20 mfa_tokens and one valid code, 20 parallel /api/token/mfa calls answer
    exactly one 200; the others are refused (INVALID_MFA_CODE, or 429 once the refusals
    lock the name)."""
    enrolled = enrol(http, api_url)
    tokens = [mfa_token(http, api_url, enrolled.user) for _ in range(20)]
    shared = code(enrolled.authenticator)

    def submit(token: str) -> requests.Response:
        with requests.Session() as own:
            return token_mfa(own, api_url, token, shared)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(submit, tokens))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1, statuses
    refused = [answer.json()["code"] for answer in answers if answer.status_code != 200]
    assert set(refused) <= {"INVALID_MFA_CODE", "TOO_MANY_REQUESTS"}


def test_an_mfa_token_is_used_once_and_garbage_is_invalid_token(
    http: requests.Session, api_url: str
) -> None:
    """Given an mfa_token that logged in, it is 401 INVALID_TOKEN the second time; an
    unknown one, and an access token, are INVALID_TOKEN too."""
    enrolled = enrol(http, api_url)
    used = mfa_token(http, api_url, enrolled.user)
    assert token_mfa(http, api_url, used, code(enrolled.authenticator)).status_code == 200

    assert_error(token_mfa(http, api_url, used, enrolled.recovery_codes[0]), 401, "INVALID_TOKEN")
    assert_error(token_mfa(http, api_url, "not-a-token", "123456"), 401, "INVALID_TOKEN")
    assert_error(token_mfa(http, api_url, enrolled.user.token, "123456"), 401, "INVALID_TOKEN")


def test_recovery_codes_work_once(http: requests.Session, api_url: str) -> None:
    """Given the ten recovery codes, one logs in once; again it is INVALID_MFA_CODE."""
    enrolled = enrol(http, api_url)
    recovery = enrolled.recovery_codes[0]

    first = token_mfa(http, api_url, mfa_token(http, api_url, enrolled.user), recovery)
    again = token_mfa(http, api_url, mfa_token(http, api_url, enrolled.user), recovery)

    assert_success(first, TOKEN_ISSUED)
    assert_error(again, 401, "INVALID_MFA_CODE")


def test_replaced_recovery_codes_retire_the_old_ones(http: requests.Session, api_url: str) -> None:
    """Given new recovery codes, an old one is INVALID_MFA_CODE and a new one logs in."""
    enrolled = enrol(http, api_url)
    user = enrolled.user

    body = assert_success(
        http.post(
            f"{api_url}/api/mfa/recovery-codes",
            json={"password": user.password, "code": code(enrolled.authenticator)},
            headers=user.headers,
        ),
        "Recovery codes replaced.",
    )

    fresh = body["data"]["recovery_codes"]
    assert len(fresh) == 10
    assert_error(
        token_mfa(http, api_url, mfa_token(http, api_url, user), enrolled.recovery_codes[1]),
        401,
        "INVALID_MFA_CODE",
    )
    assert_success(token_mfa(http, api_url, mfa_token(http, api_url, user), fresh[0]), TOKEN_ISSUED)


def test_disable_turns_the_factor_off_and_a_second_time_is_not_enabled(
    http: requests.Session, api_url: str
) -> None:
    """Given the factor on, DELETE /api/mfa/totp with the password and a code answers
    200; logins answer tokens at once again; once more it is 409 MFA_NOT_ENABLED."""
    enrolled = enrol(http, api_url)
    user = enrolled.user

    def disable(code_text: str) -> requests.Response:
        return http.delete(
            f"{api_url}/api/mfa/totp",
            json={"password": user.password, "code": code_text},
            headers=user.headers,
        )

    assert_success(disable(code(enrolled.authenticator)), "Two-factor authentication disabled.")
    assert request_token(http, api_url, user.username, user.password).status_code == 200
    assert_error(disable(code(enrolled.authenticator, 1)), 409, "MFA_NOT_ENABLED")


def test_setup_while_on_is_already_enabled(http: requests.Session, api_url: str) -> None:
    """Given the factor on, setup answers 409 MFA_ALREADY_ENABLED."""
    enrolled = enrol(http, api_url)

    response = http.post(
        f"{api_url}/api/mfa/totp/setup",
        json={"password": enrolled.user.password},
        headers=enrolled.user.headers,
    )

    assert_error(response, 409, "MFA_ALREADY_ENABLED")


def test_wrong_codes_lock_the_name_and_both_logins_answer_429(
    http: requests.Session, api_url: str
) -> None:
    """Given five wrong codes (each INVALID_MFA_CODE), /api/token/mfa and /api/token answer
    429 with Retry-After before checking anything, even with the right code."""

    def scenario(lockout: Lockout) -> tuple[requests.Response, requests.Response]:
        enrolled = enrol(http, api_url)
        token = mfa_token(http, api_url, enrolled.user)
        for failure in five_failures(lambda: token_mfa(http, api_url, token, "000000"), lockout):
            assert_error(failure, 401, "INVALID_MFA_CODE")
        user = enrolled.user
        return (
            token_mfa(http, api_url, token, code(enrolled.authenticator)),
            request_token(http, api_url, user.username, user.password),
        )

    locked, by_password = within_lockouts(scenario)

    assert_error(locked, 429, "TOO_MANY_REQUESTS")
    assert int(locked.headers["Retry-After"]) >= 1
    assert_error(by_password, 429, "TOO_MANY_REQUESTS")


def test_mfa_required_neither_counts_nor_resets(http: requests.Session, api_url: str) -> None:
    """Given four wrong passwords then right ones answered MFA_REQUIRED, one more wrong
    password locks the name (the count stayed at four)."""

    def scenario(lockout: Lockout) -> requests.Response:
        user = enrol(http, api_url).user
        for _ in range(4):
            assert_error(
                request_token(http, api_url, user.username, "not-it-1234"),
                401,
                "INVALID_CREDENTIALS",
            )
        for _ in range(3):
            mfa_token(http, api_url, user)
        lockout.starts(1)
        assert_error(
            request_token(http, api_url, user.username, "not-it-1234"), 401, "INVALID_CREDENTIALS"
        )
        return request_token(http, api_url, user.username, user.password)

    assert_error(within_lockouts(scenario), 429, "TOO_MANY_REQUESTS")


def test_users_login_refuses_an_account_with_the_factor(
    http: requests.Session, api_url: str
) -> None:
    """Given the factor on, /users/login with the right password answers 401
    {"message": "Two-factor authentication required"}."""
    enrolled = enrol(http, api_url)

    response = http.post(
        f"{api_url}/users/login",
        json={"email": enrolled.user.email, "password": enrolled.user.password},
    )

    assert response.status_code == 401
    assert response.json() == {"message": "Two-factor authentication required"}


def test_password_change_and_deletion_need_a_code(http: requests.Session, api_url: str) -> None:
    """Given the factor on, a password change without a code is 400 INVALID_REQUEST, with
    a wrong one 401 INVALID_MFA_CODE, with a right one 200; the deletion likewise."""
    enrolled = enrol(http, api_url)
    user = enrolled.user
    change: dict[str, Any] = {
        "current_password": user.password,
        "new_password": "another-horse-battery-99",
    }

    assert_error(
        http.post(f"{api_url}/api/password", json=change, headers=user.headers),
        400,
        "INVALID_REQUEST",
    )
    wrong = http.post(
        f"{api_url}/api/password", json={**change, "code": "000000"}, headers=user.headers
    )
    assert_error(wrong, 401, "INVALID_MFA_CODE")
    right = {**change, "code": code(enrolled.authenticator)}
    assert_success(http.post(f"{api_url}/api/password", json=right, headers=user.headers))

    deletion = {"password": "another-horse-battery-99"}
    assert_error(
        http.delete(f"{api_url}/api/account", json=deletion, headers=user.headers),
        400,
        "INVALID_REQUEST",
    )
    with_code = {**deletion, "code": enrolled.recovery_codes[0]}
    deleted = http.delete(f"{api_url}/api/account", json=with_code, headers=user.headers)
    assert_success(deleted, "Account deleted successfully.")


def test_the_activity_log_records_the_factor_events(http: requests.Session, api_url: str) -> None:
    """Given an enrolment, a wrong code and a disable, the activity has mfa_enabled,
    mfa_failed and mfa_disabled, and never a code."""
    enrolled = enrol(http, api_url)
    user = enrolled.user
    assert_error(
        token_mfa(http, api_url, mfa_token(http, api_url, user), "000000"), 401, "INVALID_MFA_CODE"
    )
    used = code(enrolled.authenticator)
    http.delete(
        f"{api_url}/api/mfa/totp",
        json={"password": user.password, "code": used},
        headers=user.headers,
    )

    response = http.get(f"{api_url}/api/account/activity", headers=user.headers)

    body = assert_success(response)
    names = [event["event"] for event in body["data"]["events"]]
    assert {"mfa_enabled", "mfa_failed", "mfa_disabled"} <= set(names)
    assert used not in response.text
