"""Address changes (SPEC "Account details"): POST /api/email asks, with the password, for a
confirm link mailed to the new address; POST /api/email/verify with that link moves the
account to it, frees the old address and tells it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from tests.handlers.accounts import USER, register, set_on_profile
from tests.handlers.calls import call, error, handler, with_body, without_details
from tests.handlers.mail import link_token, mail_request_record, sent_mails
from tests.handlers.sessions import access_token, as_caller, token

NEW_EMAIL = "johnny.doe@example.net"


def item(client: Any, pk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(
        TableName="UsersTable", Key={"pk": {"S": pk}}, ConsistentRead=True
    ).get("Item")
    return found


def change(context: Any, body: object | None = None) -> Any:
    sent = {"password": USER["password"], "new_email": NEW_EMAIL} if body is None else body
    event = as_caller("change_email_success", access_token(context), context, sent)
    return call(handler("change_email"), event, context)


def send_mail(context: Any, kind: str, user_id: str) -> list[Any]:
    """Run the sender on the request MAIL#<kind>#<user_id>; the mails it sent."""
    before = len(sent_mails())
    assert handler("send_mail")(mail_request_record(kind, user_id), context) == {
        "batchItemFailures": []
    }
    return sent_mails()[before:]


def confirm_link(context: Any, user_id: str) -> str:
    (mail,) = send_mail(context, "email", user_id)
    return link_token(mail.body, "verify-email")


def verify(context: Any, link: str) -> Any:
    return call(
        handler("verify_email"), with_body("verify_email_success", {"token": link}), context
    )


def account_email(context: Any) -> tuple[str, bool]:
    event = as_caller("get_account_success", access_token(context), context)
    data = call(handler("get_account"), event, context)[1]["data"]
    return data["email"], data["email_verified"]


def test_a_change_request_writes_the_mail_request_in_three_requests(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given the right password, the answer is 200, the address is unchanged, and one
    transaction wrote the mail request naming the new address: three DynamoDB requests
    (the profile with the session, the attempt's count, the transaction)."""
    event = as_caller("change_email_success", access_token(lambda_context), lambda_context, ...)
    dynamodb_requests.clear()

    status, body = call(handler("change_email"), event, lambda_context)

    assert (status, body["message"]) == (200, "Confirmation sent to the new address.")
    assert dict(dynamodb_requests) == {
        "BatchGetItem": 1,
        "UpdateItem": 1,
        "TransactWriteItems": 1,
    }
    request = item(aws_tables, f"MAIL#email#{user_id}")
    assert request is not None
    assert request["new_email"] == {"S": NEW_EMAIL}
    assert account_email(lambda_context) == (USER["email"], False)


def test_the_confirm_link_goes_to_the_new_address_and_names_it(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given a change request, the sender mails the new address (not the old one) a link
    to AppUrl's verify page; the profile keeps its hash and the address it confirms."""
    change(lambda_context)

    (mail,) = send_mail(lambda_context, "email", user_id)

    assert mail.destinations["ToAddresses"] == [NEW_EMAIL]
    assert mail.subject == "Confirm your new email address"
    assert NEW_EMAIL in mail.body
    profile = item(aws_tables, f"USER#{user_id}")
    assert profile is not None
    assert profile["email_link_address"] == {"S": NEW_EMAIL}
    assert link_token(mail.body, "verify-email").startswith(f"{user_id}.")


def test_the_link_moves_the_account_to_the_new_address_in_two_requests(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given the mailed link, when it is used, the account has the new address, verified,
    the old address's marker is gone and the new one's holds the login: two requests."""
    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    dynamodb_requests.clear()

    status, body = verify(lambda_context, link)

    assert (status, body["message"]) == (200, "Email verified successfully.")
    assert dict(dynamodb_requests) == {"GetItem": 1, "TransactWriteItems": 1}
    assert account_email(lambda_context) == (NEW_EMAIL, True)
    assert item(aws_tables, f"EMAIL#{USER['email']}") is None
    marker = item(aws_tables, f"EMAIL#{NEW_EMAIL}")
    assert marker is not None
    assert marker["user_id"] == {"S": user_id}
    username_marker = item(aws_tables, "USERNAME#johndoe")
    assert username_marker is not None
    assert username_marker["email"] == {"S": NEW_EMAIL}


def test_after_the_change_the_new_address_logs_in_and_the_old_one_does_not(
    user_id: str, lambda_context: Any
) -> None:
    change(lambda_context)
    verify(lambda_context, confirm_link(lambda_context, user_id))

    assert token(lambda_context, NEW_EMAIL, USER["password"])[0] == 200
    assert without_details(token(lambda_context, USER["email"], USER["password"])) == error(
        ErrorCode.INVALID_CREDENTIALS
    )


def test_the_old_address_is_free_at_once(user_id: str, lambda_context: Any) -> None:
    """Given a confirmed change, a new account can register with the old address."""
    change(lambda_context)
    verify(lambda_context, confirm_link(lambda_context, user_id))

    status, _ = register(lambda_context, username="another", email=USER["email"])

    assert status == 200


def test_the_old_address_is_told_of_the_change(user_id: str, lambda_context: Any) -> None:
    """Given a confirmed change, the transaction asked for a notice to the old address,
    which the sender mails there, without a link."""
    change(lambda_context)
    verify(lambda_context, confirm_link(lambda_context, user_id))

    (mail,) = send_mail(lambda_context, "email_changed", user_id)

    assert mail.destinations["ToAddresses"] == [USER["email"]]
    assert mail.subject == "Your email address was changed"
    assert "Hello John Doe," in mail.body
    assert "token=" not in mail.body


def test_the_change_is_recorded_in_the_activity_log(user_id: str, lambda_context: Any) -> None:
    change(lambda_context)
    verify(lambda_context, confirm_link(lambda_context, user_id))
    event = as_caller("list_activity_success", access_token(lambda_context), lambda_context)

    events = call(handler("list_activity"), event, lambda_context)[1]["data"]["events"]

    assert "email_changed" in [e["event"] for e in events]


def test_a_confirm_link_works_once(user_id: str, lambda_context: Any) -> None:
    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    assert verify(lambda_context, link)[0] == 200

    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_only_the_newest_change_link_works(user_id: str, lambda_context: Any) -> None:
    """Given two change requests, the first one's link stops working when the second's
    is minted, and the second's moves the account to the second address."""
    change(lambda_context)
    first = confirm_link(lambda_context, user_id)
    change(lambda_context, {"password": USER["password"], "new_email": "jd@example.org"})
    second = confirm_link(lambda_context, user_id)

    assert verify(lambda_context, first) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    assert verify(lambda_context, second)[0] == 200
    assert account_email(lambda_context)[0] == "jd@example.org"


def test_an_expired_confirm_link_is_refused(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    set_on_profile(aws_tables, user_id, "email_link_expires_at", {"N": "1000"})

    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    assert account_email(lambda_context)[0] == USER["email"]


def test_a_password_change_voids_the_confirm_link(user_id: str, lambda_context: Any) -> None:
    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    body = {"current_password": USER["password"], "new_password": "another_password456"}
    event = as_caller("change_password_success", access_token(lambda_context), lambda_context, body)
    assert call(handler("change_password"), event, lambda_context)[0] == 200

    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_an_address_taken_at_request_time_is_email_exists(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given another account with the new address (in another case), the request is 409
    EMAIL_EXISTS and asks for no mail."""
    assert register(lambda_context, username="other", email="Johnny.Doe@Example.net")[0] == 200

    assert change(lambda_context) == error(ErrorCode.EMAIL_EXISTS)
    assert item(aws_tables, f"MAIL#email#{user_id}") is None


def test_the_accounts_own_address_is_email_exists(user_id: str, lambda_context: Any) -> None:
    body = {"password": USER["password"], "new_email": USER["email"].upper()}

    assert change(lambda_context, body) == error(ErrorCode.EMAIL_EXISTS)


def test_an_address_taken_before_confirmation_is_email_exists_and_nothing_changes(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given a change request, then another account registering the new address, the link
    answers 409 EMAIL_EXISTS and the account keeps its address."""
    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    assert register(lambda_context, username="other", email=NEW_EMAIL)[0] == 200

    assert verify(lambda_context, link) == error(ErrorCode.EMAIL_EXISTS)
    assert account_email(lambda_context)[0] == USER["email"]
    marker = item(aws_tables, f"EMAIL#{USER['email']}")
    assert marker is not None
    assert marker["user_id"] == {"S": user_id}


def test_a_wrong_password_is_invalid_credentials_and_counted(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Order: the fields, then the password (counted on the account's name), then the
    address: a wrong password with a taken address is 401, not 409."""
    assert register(lambda_context, username="other", email=NEW_EMAIL)[0] == 200
    body = {"password": "wrong_password", "new_email": NEW_EMAIL}

    assert change(lambda_context, body) == error(ErrorCode.INVALID_CREDENTIALS)
    marker = item(aws_tables, "USERNAME#johndoe")
    assert marker is not None
    assert "attempts" in marker


def test_a_right_password_clears_the_count_even_when_the_address_is_taken(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    assert register(lambda_context, username="other", email=NEW_EMAIL)[0] == 200
    change(lambda_context, {"password": "wrong_password", "new_email": NEW_EMAIL})

    assert change(lambda_context) == error(ErrorCode.EMAIL_EXISTS)
    marker = item(aws_tables, "USERNAME#johndoe")
    assert marker is not None
    assert "attempts" not in marker


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_email": NEW_EMAIL}, "password"),
        ({"password": USER["password"]}, "new_email"),
        ({"password": USER["password"], "new_email": "not-an-address"}, "new_email"),
        ({"password": 7, "new_email": NEW_EMAIL}, "password"),
    ],
)
def test_fields_are_checked_before_the_password(
    body: dict[str, Any], field: str, user_id: str, lambda_context: Any
) -> None:
    status, answer = change(lambda_context, body)

    assert (status, answer["code"]) == (400, "INVALID_REQUEST")
    assert [detail["field"] for detail in answer["details"]] == [field]


def test_the_events_file_of_an_invalid_address_is_invalid_request(
    user_id: str, lambda_context: Any
) -> None:
    event = as_caller("change_email_invalid_email", access_token(lambda_context), lambda_context)

    status, answer = call(handler("change_email"), event, lambda_context)

    assert (status, answer["details"][0]["field"]) == (400, "new_email")


def test_the_new_marker_copies_the_second_factor(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given an account whose factor is on (its copies on the markers), the new address's
    marker carries the same copies, so a login by the new address asks for a code."""
    event = as_caller("change_email_success", access_token(lambda_context), lambda_context, ...)
    sealed = {"B": b"\x01" * 40}
    for pk in (f"USER#{user_id}", "USERNAME#johndoe", f"EMAIL#{USER['email']}"):
        aws_tables.update_item(
            TableName="UsersTable",
            Key={"pk": {"S": pk}},
            UpdateExpression="SET totp_secret = :s, totp_key = :k, recovery_codes = :c",
            ExpressionAttributeValues={
                ":s": sealed,
                ":k": {"S": "1"},
                ":c": {"SS": ["a", "b"]},
            },
        )
    assert call(handler("change_email"), event, lambda_context)[0] == 200

    assert verify(lambda_context, confirm_link(lambda_context, user_id))[0] == 200
    marker = item(aws_tables, f"EMAIL#{NEW_EMAIL}")
    assert marker is not None
    assert (marker["totp_secret"], marker["recovery_codes"]["SS"]) == (sealed, ["a", "b"])
    status, body = token(lambda_context, NEW_EMAIL, USER["password"])
    assert (status, body["code"]) == (401, "MFA_REQUIRED")


def test_a_profile_changed_after_its_read_is_read_again_not_refused(
    user_id: str, aws_tables: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a link, when the profile's factor copies change between the confirmation's
    read and its write (a recovery code spent at a login), the confirmation reads the
    profile again and the new marker copies the codes as they are now."""
    from lockbox.accounts import email_records

    change(lambda_context)
    link = confirm_link(lambda_context, user_id)
    real_read = email_records.read_link_holder
    reads: list[str] = []

    def read_then_spend(owner: str) -> Any:
        holder = real_read(owner)
        if not reads:
            set_on_profile(aws_tables, user_id, "recovery_codes", {"SS": ["x"]})
        reads.append(owner)
        return holder

    monkeypatch.setattr(email_records, "read_link_holder", read_then_spend)

    assert verify(lambda_context, link)[0] == 200
    assert len(reads) == 2
    marker = item(aws_tables, f"EMAIL#{NEW_EMAIL}")
    assert marker is not None
    assert marker["recovery_codes"]["SS"] == ["x"]
