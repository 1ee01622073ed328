"""The second factor (SPEC "Second factor (TOTP)"): enrolment, the login's two steps with
codes accepted once, recovery codes, turning it off, and its place in login protection
(moto)."""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import jwt
import pyotp
import pytest

from lockbox.core.errors import ErrorCode
from lockbox.core.responses import error_body
from lockbox.core.settings import get_settings
from tests.handlers.accounts import USER
from tests.handlers.calls import (
    Answer,
    answer,
    assert_ok,
    call,
    error,
    handler,
    meanwhile,
    with_body,
)
from tests.handlers.mfa import (
    code,
    confirm,
    disable,
    enrol,
    mfa_token,
    replace_codes,
    setup,
    token_mfa,
)
from tests.handlers.sessions import access_token, as_caller, authorized, logout, token
from tests.handlers.test_activity import names


def profile(user_id: str) -> dict[str, Any]:
    table = boto3.client("dynamodb").get_item(
        TableName=get_settings().users_table, Key={"pk": {"S": f"USER#{user_id}"}}
    )
    item: dict[str, Any] = table["Item"]
    return item


def test_setup_answers_an_rfc_6238_secret_and_uri_and_changes_nothing(
    user_id: str, lambda_context: Any
) -> None:
    """Given a caller without a factor, setup answers an unpadded base32 secret of at
    least 160 bits and an otpauth URI (SHA-1, 6 digits, 30 s, an issuer); until a code
    confirms it, a login still answers tokens."""
    caller = access_token(lambda_context)

    status, body = setup(lambda_context, caller)

    assert status == 200, body
    secret = body["data"]["secret"]
    assert "=" not in secret
    assert len(base64.b32decode(secret)) * 8 >= 160
    uri = urlparse(body["data"]["otpauth_uri"])
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert query["secret"] == [secret]
    assert query["issuer"][0]
    assert pyotp.parse_uri(body["data"]["otpauth_uri"]).digits == 6
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_setup_with_a_wrong_password_is_invalid_credentials(
    user_id: str, lambda_context: Any
) -> None:
    """Given a wrong password, setup answers 401 INVALID_CREDENTIALS."""
    assert setup(lambda_context, access_token(lambda_context), "wrong_password_1") == error(
        ErrorCode.INVALID_CREDENTIALS
    )


def test_confirm_turns_the_factor_on_with_ten_codes_stored_as_hashes(
    user_id: str, lambda_context: Any
) -> None:
    """Given a setup, its first code answers 200 with ten recovery codes; the profile holds
    the secret sealed and the codes only as hashes; the activity has mfa_enabled."""
    caller = access_token(lambda_context)
    _, body = setup(lambda_context, caller)
    secret = body["data"]["secret"]

    status, body = confirm(lambda_context, caller, pyotp.TOTP(secret).now())

    assert status == 200
    assert body["message"] == "Two-factor authentication enabled."
    codes = body["data"]["recovery_codes"]
    assert len(set(codes)) == 10
    stored = repr(profile(user_id))
    assert secret not in stored
    assert not any(c.replace("-", "") in stored for c in codes)
    assert not any(c in stored for c in codes)
    assert "mfa_enabled" in names(lambda_context, caller)


def test_confirm_with_a_wrong_code_is_invalid_mfa_code(user_id: str, lambda_context: Any) -> None:
    """Given a setup, a code of another secret answers 401 INVALID_MFA_CODE and the
    factor stays off."""
    caller = access_token(lambda_context)
    setup(lambda_context, caller)

    assert confirm(lambda_context, caller, pyotp.TOTP(pyotp.random_base32()).now()) == error(
        ErrorCode.INVALID_MFA_CODE
    )
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_confirm_without_setup_is_mfa_not_enabled(user_id: str, lambda_context: Any) -> None:
    """Given no setup, confirm answers 409 MFA_NOT_ENABLED."""
    assert confirm(lambda_context, access_token(lambda_context), "123456") == error(
        ErrorCode.MFA_NOT_ENABLED
    )


def test_setup_while_on_is_mfa_already_enabled(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, setup answers 409 MFA_ALREADY_ENABLED."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    assert setup(lambda_context, enrolled.access_token) == error(ErrorCode.MFA_ALREADY_ENABLED)


def test_token_of_an_account_with_the_factor_is_mfa_required_with_a_token(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given the factor on, /api/token with the right password answers 401 MFA_REQUIRED
    whose data holds an mfa_token and expires_in 300, in two DynamoDB requests."""
    enrol(lambda_context, access_token(lambda_context))
    dynamodb_requests.clear()

    status, body = token(lambda_context, USER["username"], USER["password"])

    assert status == 401
    assert {k: v for k, v in body.items() if k != "data"} == error_body(ErrorCode.MFA_REQUIRED)
    assert body["data"]["expires_in"] == 300
    assert body["data"]["mfa_token"]
    assert sum(dynamodb_requests.values()) == 2


def test_token_mfa_with_a_code_answers_as_token_in_two_requests(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given an mfa_token, /api/token/mfa with the current code answers 200 with the
    tokens /api/token gives, in at most two DynamoDB requests."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    pending = mfa_token(lambda_context)
    dynamodb_requests.clear()

    status, body = token_mfa(lambda_context, pending, code(enrolled.authenticator))

    assert status == 200, body
    assert sum(dynamodb_requests.values()) <= 2
    assert body["message"] == "Access token generated successfully."
    data = body["data"]
    assert set(data) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert authorized(lambda_context, data["access_token"]) is not None


def test_a_code_is_accepted_once(user_id: str, lambda_context: Any) -> None:
    """Given a code accepted, the same code with a new mfa_token answers 401
    INVALID_MFA_CODE (a replay in its window), and an older step's code too."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    assert (
        token_mfa(lambda_context, mfa_token(lambda_context), code(enrolled.authenticator, 1))[0]
        == 200
    )

    replay = token_mfa(lambda_context, mfa_token(lambda_context), code(enrolled.authenticator, 1))
    older = token_mfa(lambda_context, mfa_token(lambda_context), code(enrolled.authenticator))

    assert replay == error(ErrorCode.INVALID_MFA_CODE)
    assert older == error(ErrorCode.INVALID_MFA_CODE)


def test_one_step_of_drift_either_way_and_no_more(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, codes two steps away answer INVALID_MFA_CODE; the next
    step's code is accepted."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    for offset in (-2, 2):
        wrong = token_mfa(
            lambda_context, mfa_token(lambda_context), code(enrolled.authenticator, offset)
        )
        assert wrong == error(ErrorCode.INVALID_MFA_CODE)
    assert (
        token_mfa(lambda_context, mfa_token(lambda_context), code(enrolled.authenticator, 1))[0]
        == 200
    )


def test_an_mfa_token_is_used_once(user_id: str, lambda_context: Any) -> None:
    """Given an mfa_token that gave tokens, it answers 401 INVALID_TOKEN with another code."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    used = mfa_token(lambda_context)
    assert token_mfa(lambda_context, used, code(enrolled.authenticator))[0] == 200

    assert token_mfa(lambda_context, used, enrolled.recovery_codes[0]) == error(
        ErrorCode.INVALID_TOKEN
    )


@pytest.mark.usefixtures("no_dynamodb")
def test_an_unknown_mfa_token_is_invalid_token_without_a_request(lambda_context: Any) -> None:
    """Given events/token_mfa_invalid_token.json, 401 INVALID_TOKEN before any request."""
    result = call(
        handler("token_mfa"),
        with_body("token_mfa_invalid_token", None)
        | {"body": '{"mfa_token": "not-an-mfa-token", "code": "123456"}'},
        lambda_context,
    )
    assert result == error(ErrorCode.INVALID_TOKEN)


def test_access_and_mfa_tokens_are_not_interchangeable(user_id: str, lambda_context: Any) -> None:
    """Given an access token and an mfa_token, /api/token/mfa refuses the access token
    (INVALID_TOKEN) and the authorizer refuses the mfa_token."""
    caller = access_token(lambda_context)
    enrolled = enrol(lambda_context, caller)

    assert token_mfa(lambda_context, caller, code(enrolled.authenticator)) == error(
        ErrorCode.INVALID_TOKEN
    )
    assert authorized(lambda_context, mfa_token(lambda_context)) is None


def test_an_expired_mfa_token_is_invalid_token(user_id: str, lambda_context: Any) -> None:
    """Given an mfa_token past its five minutes (re-signed with an earlier exp), 401
    INVALID_TOKEN."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    pending = mfa_token(lambda_context)
    claims = jwt.decode(pending, options={"verify_signature": False})
    from lockbox.signing.signing_keys import signing_key

    key = signing_key()
    expired = jwt.encode(
        {**claims, "exp": claims["iat"] - 1},
        key.secret,
        algorithm="HS256",
        headers={"kid": key.kid},
    )

    assert token_mfa(lambda_context, expired, code(enrolled.authenticator)) == error(
        ErrorCode.INVALID_TOKEN
    )


def test_recovery_codes_work_once(user_id: str, lambda_context: Any) -> None:
    """Given the ten recovery codes, one of them (in capitals, without dashes) logs in
    once; used again it answers INVALID_MFA_CODE."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    typed = enrolled.recovery_codes[3].replace("-", "").upper()

    first = token_mfa(lambda_context, mfa_token(lambda_context), typed)
    again = token_mfa(lambda_context, mfa_token(lambda_context), enrolled.recovery_codes[3])

    assert first[0] == 200
    assert again == error(ErrorCode.INVALID_MFA_CODE)


def test_wrong_codes_count_in_login_protection_with_mfa_failed(
    user_id: str, lambda_context: Any
) -> None:
    """Given five wrong codes (each INVALID_MFA_CODE), the name is locked: /api/token and
    /api/token/mfa answer 429 with Retry-After before checking anything; the activity
    has mfa_failed and locked_out."""
    caller = access_token(lambda_context)
    enrolled = enrol(lambda_context, caller)
    pending = mfa_token(lambda_context)
    for _ in range(5):
        assert token_mfa(lambda_context, pending, "000000") == error(ErrorCode.INVALID_MFA_CODE)

    locked = token_mfa(lambda_context, pending, code(enrolled.authenticator))
    by_password = token(lambda_context, USER["username"], USER["password"])

    assert locked == error(ErrorCode.TOO_MANY_REQUESTS)
    assert int(locked.headers["Retry-After"]) >= 1
    assert by_password == error(ErrorCode.TOO_MANY_REQUESTS)
    events = names(lambda_context, caller)
    assert events.count("mfa_failed") == 5
    assert "locked_out" in events


def test_mfa_required_neither_counts_nor_resets(user_id: str, lambda_context: Any) -> None:
    """Given four wrong passwords, a right one answered MFA_REQUIRED leaves the count at
    four: one more wrong password locks the name."""
    enrol(lambda_context, access_token(lambda_context))
    for _ in range(4):
        token(lambda_context, USER["username"], "wrong_password_1")
    for _ in range(3):
        assert (
            token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"
        )

    assert token(lambda_context, USER["username"], "wrong_password_1") == error(
        ErrorCode.INVALID_CREDENTIALS
    )
    assert token(lambda_context, USER["username"], USER["password"]) == error(
        ErrorCode.TOO_MANY_REQUESTS
    )


def test_a_login_that_issues_tokens_resets_the_count(user_id: str, lambda_context: Any) -> None:
    """Given four wrong codes, a right code's login resets the count: four more wrong
    codes are still answered INVALID_MFA_CODE."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    for _ in range(4):
        token_mfa(lambda_context, mfa_token(lambda_context), "000000")
    assert (
        token_mfa(lambda_context, mfa_token(lambda_context), code(enrolled.authenticator))[0] == 200
    )

    for _ in range(4):
        assert token_mfa(lambda_context, mfa_token(lambda_context), "000000") == error(
            ErrorCode.INVALID_MFA_CODE
        )


def test_users_login_refuses_an_account_with_the_factor(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, /users/login with the right password answers 401
    {"message": "Two-factor authentication required"}; a wrong one still its own refusal."""
    enrol(lambda_context, access_token(lambda_context))
    body = {"email": USER["email"], "password": USER["password"]}

    result = answer(handler("users_login"), with_body("users_login_success", body), lambda_context)
    wrong = answer(
        handler("users_login"),
        with_body("users_login_success", {**body, "password": "wrong_password_1"}),
        lambda_context,
    )

    assert result == (401, {"message": "Two-factor authentication required"})
    assert wrong == (401, {"message": "Invalid email or password"})


def test_disable_with_password_and_code_turns_the_factor_off(
    user_id: str, lambda_context: Any
) -> None:
    """Given the factor on, DELETE /api/mfa/totp with the password and a code answers
    "Two-factor authentication disabled."; logins answer tokens again; mfa_disabled is
    recorded; a second disable is MFA_NOT_ENABLED."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    status, body = disable(lambda_context, enrolled.access_token, code(enrolled.authenticator))

    assert (status, body["message"]) == (200, "Two-factor authentication disabled.")
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert "mfa_disabled" in names(lambda_context, enrolled.access_token)
    assert disable(lambda_context, enrolled.access_token, code(enrolled.authenticator, 1)) == error(
        ErrorCode.MFA_NOT_ENABLED
    )


def test_disable_refuses_a_wrong_password_or_code(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, a wrong password is INVALID_CREDENTIALS, a wrong code
    INVALID_MFA_CODE, and the factor stays on."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    wrong_password = disable(
        lambda_context, enrolled.access_token, code(enrolled.authenticator), "wrong_password_1"
    )
    wrong_code = disable(lambda_context, enrolled.access_token, "000000")

    assert wrong_password == error(ErrorCode.INVALID_CREDENTIALS)
    assert wrong_code == error(ErrorCode.INVALID_MFA_CODE)
    assert token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"


def test_replaced_recovery_codes_retire_the_old_ones(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, POST /api/mfa/recovery-codes answers ten new codes; an old one
    answers INVALID_MFA_CODE, a new one logs in."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    status, body = replace_codes(
        lambda_context, enrolled.access_token, code(enrolled.authenticator)
    )

    assert (status, body["message"]) == (200, "Recovery codes replaced.")
    fresh = body["data"]["recovery_codes"]
    assert len(set(fresh)) == 10
    assert not set(fresh) & set(enrolled.recovery_codes)
    old = token_mfa(lambda_context, mfa_token(lambda_context), enrolled.recovery_codes[0])
    assert old == error(ErrorCode.INVALID_MFA_CODE)
    assert token_mfa(lambda_context, mfa_token(lambda_context), fresh[0])[0] == 200


def test_a_recovery_code_proves_a_disable(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, a recovery code in place of the TOTP code turns it off."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    assert disable(lambda_context, enrolled.access_token, enrolled.recovery_codes[0])[0] == 200


def test_recovery_codes_need_the_factor_on(user_id: str, lambda_context: Any) -> None:
    """Given no factor, POST /api/mfa/recovery-codes answers 409 MFA_NOT_ENABLED."""
    assert replace_codes(lambda_context, access_token(lambda_context), "123456") == error(
        ErrorCode.MFA_NOT_ENABLED
    )


@pytest.mark.usefixtures("no_dynamodb")
def test_confirm_missing_code_event_file(lambda_context: Any) -> None:
    """Given events/mfa_confirm_missing_code.json, 400 INVALID_REQUEST naming code, before
    any request."""
    status, body = call(
        handler("mfa_confirm"), with_body("mfa_confirm_missing_code", {}), lambda_context
    )
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert body["details"][0]["field"] == "code"


def change_password(context: Any, caller: str, **fields: Any) -> Any:
    body = {"current_password": USER["password"], "new_password": "another_password456", **fields}
    return call(
        handler("change_password"),
        as_caller("change_password_success", caller, context, body),
        context,
    )


def delete_account(context: Any, caller: str, **fields: Any) -> Any:
    body = {"password": USER["password"], **fields}
    return call(
        handler("delete_account"),
        as_caller("delete_account_success", caller, context, body),
        context,
    )


def test_password_change_with_the_factor_needs_a_code(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, a password change without a code is INVALID_REQUEST naming
    code, with a wrong code INVALID_MFA_CODE, with a right one 200; that code is then
    used (its replay is INVALID_MFA_CODE)."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    right = code(enrolled.authenticator)

    missing = change_password(lambda_context, enrolled.access_token)
    wrong = change_password(lambda_context, enrolled.access_token, code="000000")
    changed = change_password(lambda_context, enrolled.access_token, code=right)
    replay = token_mfa(lambda_context, mfa_token(lambda_context, "another_password456"), right)

    assert (missing[0], missing[1]["code"], missing[1]["details"][0]["field"]) == (
        400,
        "INVALID_REQUEST",
        "code",
    )
    assert wrong == error(ErrorCode.INVALID_MFA_CODE)
    assert changed[0] == 200
    assert replay == error(ErrorCode.INVALID_MFA_CODE)


def test_account_deletion_with_the_factor_needs_a_code(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, deletion without a code is INVALID_REQUEST, with a wrong code
    INVALID_MFA_CODE, with a recovery code 200."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    missing = delete_account(lambda_context, enrolled.access_token)
    wrong = delete_account(lambda_context, enrolled.access_token, code="000000")
    deleted = delete_account(lambda_context, enrolled.access_token, code=enrolled.recovery_codes[0])

    assert (missing[0], missing[1]["code"]) == (400, "INVALID_REQUEST")
    assert wrong == error(ErrorCode.INVALID_MFA_CODE)
    assert deleted[0] == 200


def test_without_the_factor_no_code_is_needed(user_id: str, lambda_context: Any) -> None:
    """Given no factor, a password change without a code answers 200 as before."""
    assert change_password(lambda_context, access_token(lambda_context))[0] == 200


def test_an_mfa_token_of_a_factor_turned_off_since_is_invalid_token(
    user_id: str, lambda_context: Any
) -> None:
    """Given an mfa_token, then the factor turned off, the token answers 401 INVALID_TOKEN
    (its password step no longer applies) and is not counted as a failure."""
    enrolled = enrol(lambda_context, access_token(lambda_context))
    pending = mfa_token(lambda_context)
    assert disable(lambda_context, enrolled.access_token, code(enrolled.authenticator))[0] == 200

    assert token_mfa(lambda_context, pending, code(enrolled.authenticator, 1)) == error(
        ErrorCode.INVALID_TOKEN
    )
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_code_used_between_its_check_and_the_write_is_refused_and_counted(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a code whose step another request used after this one checked it (the
    confirming code's step, already the last accepted), the write's condition refuses it:
    401 INVALID_MFA_CODE, recorded as mfa_failed."""
    from lockbox.mfa import mfa_calls
    from lockbox.mfa.mfa_state import CodeUse

    enrolled = enrol(lambda_context, access_token(lambda_context))
    used_step = int(profile(user_id)["totp_last_step"]["N"])  # the confirming code's
    monkeypatch.setattr(mfa_calls, "checked_code", lambda *_: CodeUse(step=used_step))

    result = token_mfa(lambda_context, mfa_token(lambda_context), "123456")

    assert result == error(ErrorCode.INVALID_MFA_CODE)
    assert "mfa_failed" in names(lambda_context, enrolled.access_token)


def test_a_setup_overtaken_by_a_confirm_is_mfa_already_enabled(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a setup under way, a second setup whose password was checked just before the
    first was confirmed answers 409 MFA_ALREADY_ENABLED; the confirmed factor stays on."""
    from lockbox.mfa import mfa_calls

    caller = access_token(lambda_context)
    first = pyotp.TOTP(setup(lambda_context, caller)[1]["data"]["secret"])
    confirmed = lambda: confirm(lambda_context, caller, code(first))  # noqa: E731
    meanwhile(monkeypatch, mfa_calls, "checked_attempt", lambda: assert_ok(confirmed()))

    assert setup(lambda_context, caller) == error(ErrorCode.MFA_ALREADY_ENABLED)
    assert token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"


def test_a_setup_of_an_account_deleted_meanwhile_is_invalid_token(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an account deleted (by another session) once its password was checked, setup
    answers 401 INVALID_TOKEN and writes no profile back."""
    from lockbox.mfa import mfa_calls

    caller, other = access_token(lambda_context), access_token(lambda_context)
    meanwhile(
        monkeypatch,
        mfa_calls,
        "checked_attempt",
        lambda: assert_ok(delete_account(lambda_context, other)),
    )

    assert setup(lambda_context, caller) == error(ErrorCode.INVALID_TOKEN)
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName=get_settings().users_table, Key={"pk": {"S": f"USER#{user_id}"}}
    )


def test_confirm_after_its_session_ended_is_invalid_token(
    user_id: str, lambda_context: Any
) -> None:
    """Given a setup, then the caller's session logged out (its token still cached by the
    gateway), confirm answers 401 INVALID_TOKEN and the factor stays off."""
    caller = access_token(lambda_context)
    secret = setup(lambda_context, caller)[1]["data"]["secret"]
    event = as_caller(
        "mfa_confirm_success", caller, lambda_context, {"code": code(pyotp.TOTP(secret))}
    )
    logout(lambda_context, caller)

    assert call(handler("mfa_confirm"), event, lambda_context) == error(ErrorCode.INVALID_TOKEN)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_confirm_while_on_is_mfa_already_enabled(user_id: str, lambda_context: Any) -> None:
    """Given the factor on, confirm (even with a right code) answers 409 MFA_ALREADY_ENABLED."""
    enrolled = enrol(lambda_context, access_token(lambda_context))

    assert confirm(lambda_context, enrolled.access_token, code(enrolled.authenticator)) == error(
        ErrorCode.MFA_ALREADY_ENABLED
    )


def test_a_confirm_overtaken_by_another_confirm_is_mfa_already_enabled(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two confirms of one setup, the one whose write comes second answers 409
    MFA_ALREADY_ENABLED; the recovery codes are the first one's."""
    from lockbox.mfa import mfa_calls

    caller = access_token(lambda_context)
    authenticator = pyotp.TOTP(setup(lambda_context, caller)[1]["data"]["secret"])
    first: list[Answer] = []
    meanwhile(
        monkeypatch,
        mfa_calls,
        "pending_step",
        lambda: first.append(confirm(lambda_context, caller, code(authenticator, -1))),
    )

    assert confirm(lambda_context, caller, code(authenticator)) == error(
        ErrorCode.MFA_ALREADY_ENABLED
    )
    assert first[0][0] == 200
    kept = first[0][1]["data"]["recovery_codes"][0]
    assert disable(lambda_context, caller, kept)[0] == 200


def test_a_confirm_overtaken_by_a_new_setup_is_invalid_mfa_code(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a confirm whose code was checked against a secret that another setup replaced
    before the write, it answers 401 INVALID_MFA_CODE and the factor stays off."""
    from lockbox.mfa import mfa_calls

    caller = access_token(lambda_context)
    authenticator = pyotp.TOTP(setup(lambda_context, caller)[1]["data"]["secret"])
    meanwhile(
        monkeypatch, mfa_calls, "pending_step", lambda: assert_ok(setup(lambda_context, caller))
    )

    assert confirm(lambda_context, caller, code(authenticator)) == error(ErrorCode.INVALID_MFA_CODE)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_confirm_whose_session_ended_meanwhile_is_invalid_token(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the caller's session logged out between confirm's check and its write, the
    write's condition refuses it: 401 INVALID_TOKEN, the factor stays off."""
    from lockbox.mfa import mfa_calls

    caller = access_token(lambda_context)
    authenticator = pyotp.TOTP(setup(lambda_context, caller)[1]["data"]["secret"])
    meanwhile(monkeypatch, mfa_calls, "pending_step", lambda: logout(lambda_context, caller))

    assert confirm(lambda_context, caller, code(authenticator)) == error(ErrorCode.INVALID_TOKEN)
    assert token(lambda_context, USER["username"], USER["password"])[0] == 200


def test_a_disable_whose_session_ended_meanwhile_is_invalid_token(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the caller's session logged out once password and code were proved, disable
    answers 401 INVALID_TOKEN and the factor stays on."""
    from lockbox.mfa import mfa_calls

    enrolled = enrol(lambda_context, access_token(lambda_context))
    meanwhile(
        monkeypatch,
        mfa_calls,
        "proven_code",
        lambda: logout(lambda_context, enrolled.access_token),
    )

    assert disable(lambda_context, enrolled.access_token, code(enrolled.authenticator)) == error(
        ErrorCode.INVALID_TOKEN
    )
    assert token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"


def test_a_second_step_of_an_account_deleted_meanwhile_is_invalid_token(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the account deleted (from another session, with a recovery code) after the
    login's second step checked its code, the step answers 401 INVALID_TOKEN and starts no
    session: the name no longer logs in."""
    from lockbox.mfa import mfa_calls

    enrolled = enrol(lambda_context, access_token(lambda_context))
    pending = mfa_token(lambda_context)
    deleted = lambda: delete_account(  # noqa: E731
        lambda_context, enrolled.access_token, code=enrolled.recovery_codes[0]
    )
    meanwhile(monkeypatch, mfa_calls, "checked_code", lambda: assert_ok(deleted()))

    assert token_mfa(lambda_context, pending, code(enrolled.authenticator)) == error(
        ErrorCode.INVALID_TOKEN
    )
    assert token(lambda_context, USER["username"], USER["password"]) == error(
        ErrorCode.INVALID_CREDENTIALS
    )


def test_a_password_change_with_a_code_used_meanwhile_is_invalid_mfa_code(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a code that a login's second step used after the password change checked it,
    the change's write refuses it: 401 INVALID_MFA_CODE, counted as mfa_failed, and the
    password stays."""
    from lockbox.accounts import account_calls

    enrolled = enrol(lambda_context, access_token(lambda_context))
    right = code(enrolled.authenticator)
    pending = mfa_token(lambda_context)
    used = lambda: token_mfa(lambda_context, pending, right)  # noqa: E731
    meanwhile(monkeypatch, account_calls, "step_up", lambda: assert_ok(used()))

    assert change_password(lambda_context, enrolled.access_token, code=right) == error(
        ErrorCode.INVALID_MFA_CODE
    )
    assert "mfa_failed" in names(lambda_context, enrolled.access_token)
    assert token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"


def test_a_deletion_with_a_recovery_code_used_meanwhile_is_invalid_mfa_code(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a recovery code that a login's second step used after the deletion checked
    it, the deletion answers 401 INVALID_MFA_CODE and the account stays."""
    from lockbox.accounts import account_calls

    enrolled = enrol(lambda_context, access_token(lambda_context))
    recovery = enrolled.recovery_codes[0]
    pending = mfa_token(lambda_context)
    used = lambda: token_mfa(lambda_context, pending, recovery)  # noqa: E731
    meanwhile(monkeypatch, account_calls, "step_up", lambda: assert_ok(used()))

    assert delete_account(lambda_context, enrolled.access_token, code=recovery) == error(
        ErrorCode.INVALID_MFA_CODE
    )
    assert token(lambda_context, USER["username"], USER["password"])[1]["code"] == "MFA_REQUIRED"
