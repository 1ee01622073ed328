"""Recovery: POST /api/password/forgot (one conditional write, the same answer for any
address, the address's rate limit), the reset mail, and POST /api/password/reset."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from tests.handlers.accounts import USER, set_on_profile
from tests.handlers.calls import call, error, handler, with_body, without_details
from tests.handlers.mail import mail_request_record, mailed_token, sent_mails
from tests.handlers.mfa import enrol
from tests.handlers.sessions import access_token, as_caller, authorized, token

FORGOT_ANSWER = "If the address belongs to an account, a reset link has been sent."
NEW_PASSWORD = "another_password"


def forgot(context: Any, email: object) -> Any:
    return call(
        handler("forgot_password"), with_body("forgot_password_success", {"email": email}), context
    )


def reset(context: Any, link: object, new_password: object = NEW_PASSWORD) -> Any:
    body = {"token": link, "new_password": new_password}
    return call(handler("reset_password"), with_body("reset_password_success", body), context)


def reset_link(context: Any, email: str = USER["email"]) -> str:
    assert forgot(context, email)[1]["message"] == FORGOT_ANSWER
    return mailed_token(context, "reset", email.lower(), "reset-password")


def test_forgot_answers_the_same_for_any_address_in_one_request(
    user_id: str, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a known and an unknown address, forgot answers both alike with one
    conditional UpdateItem each: the lookup is the sender's, after the answer."""
    known = forgot(lambda_context, USER["email"])
    assert dict(dynamodb_requests) == {"UpdateItem": 1}
    unknown = forgot(lambda_context, "nobody@example.com")

    assert known == unknown == (200, {"status": "success", "message": FORGOT_ANSWER})
    assert dict(dynamodb_requests) == {"UpdateItem": 2}


def test_the_sender_mails_a_known_address_and_not_an_unknown_one(
    user_id: str, lambda_context: Any
) -> None:
    forgot(lambda_context, "nobody@example.com")
    before = len(sent_mails())
    handler("send_mail")(mail_request_record("reset", "nobody@example.com"), lambda_context)
    assert sent_mails()[before:] == []

    link = reset_link(lambda_context, "John.Doe@EXAMPLE.com")

    mail = sent_mails()[-1]
    assert mail.destinations["ToAddresses"] == [USER["email"]]
    assert mail.subject == "Reset your password"
    assert link.startswith(user_id)


def test_one_reset_mail_a_minute_and_five_a_day(
    user_id: str, aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given requests for one address, a second within 60 s writes nothing (no stream
    record, so no mail); a minute later one does; the sixth of a day never."""
    import time as real_time

    from lockbox.mail import mail_records

    now = [1_800_000_000.0 - 1_800_000_000.0 % 86_400 + 3600]  # 01:00 UTC of a day
    monkeypatch.setattr(mail_records.time, "time", lambda: now[0])
    key = {"pk": {"S": "MAIL#reset#john.doe@example.com"}}

    def request_id() -> str:
        return str(aws_tables.get_item(TableName="UsersTable", Key=key)["Item"]["request_id"]["S"])

    written = []
    for _ in range(7):
        forgot(lambda_context, USER["email"])
        written.append(request_id())
        forgot(lambda_context, USER["email"])  # within the minute: held back
        assert request_id() == written[-1]
        now[0] += 61
    assert len(set(written)) == 5  # the 6th and 7th of the day were held back
    now[0] += 86_400
    forgot(lambda_context, USER["email"])
    assert request_id() not in written
    assert real_time.time() > 0


def test_the_reset_sets_the_password_ends_every_session_and_answers_a_new_one(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given two live sessions and a reset link, the reset (two requests) answers a new
    session's tokens as /api/token does; the old sessions end, the old password stops
    working, the new one logs in, and the address counts as verified."""
    sessions = [access_token(lambda_context) for _ in range(2)]
    link = reset_link(lambda_context)
    dynamodb_requests.clear()

    status, body = reset(lambda_context, link)

    assert (status, body["message"]) == (200, "Password reset successfully.")
    assert dict(dynamodb_requests) == {"GetItem": 1, "TransactWriteItems": 1}
    assert set(body["data"]) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    assert authorized(lambda_context, body["data"]["access_token"]) is not None
    assert all(authorized(lambda_context, old) is None for old in sessions)
    assert token(lambda_context, USER["username"], USER["password"]) == error(
        ErrorCode.INVALID_CREDENTIALS
    )
    assert token(lambda_context, USER["email"], NEW_PASSWORD)[0] == 200
    marker = aws_tables.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})
    assert marker["Item"]["email_verified"] == {"BOOL": True}


def test_the_reset_clears_a_lockout(user_id: str, lambda_context: Any) -> None:
    """Given the name locked out by a stranger's guesses, the reset lets its owner in."""
    for _ in range(6):
        token(lambda_context, USER["username"], "wrong-guess")
    assert token(lambda_context, USER["username"], USER["password"])[0] == 429

    assert reset(lambda_context, reset_link(lambda_context))[0] == 200

    assert token(lambda_context, USER["username"], NEW_PASSWORD)[0] == 200


def test_a_reset_link_works_once_and_only_the_newest(user_id: str, lambda_context: Any) -> None:
    from lockbox.mail import mail_records

    older = reset_link(lambda_context)
    newer = mailed_token(lambda_context, "reset", "john.doe@example.com", "reset-password")
    assert mail_records.RESET_SPACING_SECONDS == 60

    assert reset(lambda_context, older) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    assert reset(lambda_context, newer)[0] == 200
    assert reset(lambda_context, newer, "yet_another_password") == error(
        ErrorCode.INVALID_EMAIL_TOKEN
    )


def test_a_refused_password_leaves_the_link_usable(user_id: str, lambda_context: Any) -> None:
    link = reset_link(lambda_context)

    assert without_details(reset(lambda_context, link, "short")) == error(
        ErrorCode.INVALID_PASSWORD
    )
    assert reset(lambda_context, link)[0] == 200


def test_an_expired_reset_link_is_refused(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    link = reset_link(lambda_context)
    set_on_profile(aws_tables, user_id, "reset_link_expires_at", {"N": "1"})

    assert reset(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_a_password_change_voids_an_open_link(user_id: str, lambda_context: Any) -> None:
    link = reset_link(lambda_context)
    body = {"current_password": USER["password"], "new_password": "changed_password"}
    event = as_caller("change_password_success", access_token(lambda_context), lambda_context, body)
    assert call(handler("change_password"), event, lambda_context)[0] == 200

    assert reset(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_a_verify_link_is_not_a_reset_link(user_id: str, lambda_context: Any) -> None:
    verify_link = mailed_token(lambda_context, "verify", user_id, "verify-email")

    assert reset(lambda_context, verify_link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


@pytest.mark.usefixtures("user_id")
def test_with_a_second_factor_the_reset_answers_no_session(lambda_context: Any) -> None:
    """Given an account with the second factor on, a reset sets the password and answers no
    session: the user logs in with the password and a code."""
    enrol(lambda_context, access_token(lambda_context))
    link = reset_link(lambda_context)

    assert reset(lambda_context, link) == (
        200,
        {"status": "success", "message": "Password reset successfully."},
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("email", ["not-an-address", "", None, 7])
def test_forgot_refuses_what_is_not_an_address(email: object, lambda_context: Any) -> None:
    status, body = forgot(lambda_context, email)

    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [d["field"] for d in body["details"]] == ["email"]


@pytest.mark.usefixtures("no_dynamodb")
def test_reset_checks_fields_then_the_policy_before_the_link(lambda_context: Any) -> None:
    status, body = reset(lambda_context, "nonsense", None)
    assert without_details((status, body)) == error(ErrorCode.INVALID_REQUEST)
    assert [d["field"] for d in body["details"]] == ["new_password"]
    assert without_details(reset(lambda_context, "nonsense", "123")) == error(
        ErrorCode.INVALID_PASSWORD
    )
    assert reset(lambda_context, "nonsense") == error(ErrorCode.INVALID_EMAIL_TOKEN)
