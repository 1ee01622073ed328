"""Email verification: the mail request a registration writes, POST /api/email/verify,
POST /api/email/verify/send, email_verified in the account, and RequireVerifiedEmail."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register, set_on_profile
from tests.handlers.calls import answer, call, error, handler, with_body, without_details
from tests.handlers.mail import mail_request_record, mailed_token, sent_mails
from tests.handlers.sessions import access_token, as_caller, token


def item(client: Any, pk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(
        TableName="UsersTable", Key={"pk": {"S": pk}}, ConsistentRead=True
    ).get("Item")
    return found


def verify(context: Any, link_token: object) -> Any:
    return call(
        handler("verify_email"), with_body("verify_email_success", {"token": link_token}), context
    )


def account_data(context: Any) -> dict[str, Any]:
    event = as_caller("get_account_success", access_token(context), context)
    status, body = call(handler("get_account"), event, context)
    assert status == 200
    data: dict[str, Any] = body["data"]
    return data


def test_registration_asks_for_a_verification_mail_in_its_own_transaction(
    aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given a registration, then its one transaction also wrote the mail request that the
    stream hands to the sender, which mails the new address a verify link."""
    status, body = register(lambda_context)

    assert status == 200
    assert dict(dynamodb_requests) == {"TransactWriteItems": 1}
    user_id = body["data"]["user_id"]
    request = item(aws_tables, f"MAIL#verify#{user_id}")
    assert request is not None
    assert int(request["expires_at"]["N"]) > 0
    assert mailed_token(lambda_context, "verify", user_id, "verify-email").startswith(user_id)


def test_users_registration_asks_for_a_verification_mail_too(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a /users registration, then its transaction wrote the mail request too."""
    status, body = answer(
        handler("users_register"), load_event("users_register_success"), lambda_context
    )

    assert status == 201
    assert item(aws_tables, f"MAIL#verify#{body['user']['_id']}") is not None


def test_the_mailed_link_verifies_the_address_in_two_requests(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given the mailed link, when it is used, then the address is verified on the profile
    and every marker, the link is gone, and the account says so: two DynamoDB requests."""
    assert account_data(lambda_context)["email_verified"] is False
    link = mailed_token(lambda_context, "verify", user_id, "verify-email")
    dynamodb_requests.clear()

    status, body = verify(lambda_context, link)

    assert (status, body["message"]) == (200, "Email verified successfully.")
    assert dict(dynamodb_requests) == {"GetItem": 1, "TransactWriteItems": 1}
    assert account_data(lambda_context)["email_verified"] is True
    for pk in ("USERNAME#johndoe", "EMAIL#john.doe@example.com"):
        assert item(aws_tables, pk)["email_verified"] == {"BOOL": True}  # type: ignore[index]
    assert "verify_link_hash" not in item(aws_tables, f"USER#{user_id}")  # type: ignore[operator]


def test_a_link_works_once(user_id: str, lambda_context: Any) -> None:
    link = mailed_token(lambda_context, "verify", user_id, "verify-email")
    assert verify(lambda_context, link)[0] == 200

    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_only_the_newest_link_works(user_id: str, lambda_context: Any) -> None:
    """Given two links mailed, the older is refused and the newer works."""
    older = mailed_token(lambda_context, "verify", user_id, "verify-email")
    newer = mailed_token(lambda_context, "verify", user_id, "verify-email")

    assert verify(lambda_context, older) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    assert verify(lambda_context, newer)[0] == 200


def test_an_expired_link_is_refused(user_id: str, aws_tables: Any, lambda_context: Any) -> None:
    link = mailed_token(lambda_context, "verify", user_id, "verify-email")
    set_on_profile(aws_tables, user_id, "verify_link_expires_at", {"N": "1"})

    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    "link", ["nonsense", "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60", "x" * 5000, "a.b"]
)
def test_a_malformed_token_is_refused_without_a_request(link: str, lambda_context: Any) -> None:
    assert verify(lambda_context, link) == error(ErrorCode.INVALID_EMAIL_TOKEN)


def test_a_well_formed_token_without_a_link_is_refused(user_id: str, lambda_context: Any) -> None:
    made_up = f"{user_id}.{'A' * 43}"

    assert verify(lambda_context, made_up) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    event = load_event("verify_email_invalid_token")
    assert call(handler("verify_email"), event, lambda_context) == error(
        ErrorCode.INVALID_EMAIL_TOKEN
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 7}, {"token": None}])
def test_a_missing_token_is_invalid_request_naming_it(body: object, lambda_context: Any) -> None:
    status, refusal = call(
        handler("verify_email"), with_body("verify_email_missing", body), lambda_context
    )

    assert without_details((status, refusal)) == error(ErrorCode.INVALID_REQUEST)
    assert [d["field"] for d in refusal["details"]] == ["token"]


def test_verified_is_recorded_in_the_activity_log(user_id: str, lambda_context: Any) -> None:
    verify(lambda_context, mailed_token(lambda_context, "verify", user_id, "verify-email"))
    event = as_caller("list_activity_success", access_token(lambda_context), lambda_context)

    events = call(handler("list_activity"), event, lambda_context)[1]["data"]["events"]

    assert "email_verified" in [e["event"] for e in events]


def test_send_asks_for_a_new_link_in_one_request(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given an unverified account, verify/send writes a new mail request (one transaction),
    whose mail carries a link that replaces the registration's."""
    first = mailed_token(lambda_context, "verify", user_id, "verify-email")
    event = as_caller("send_verification_success", access_token(lambda_context), lambda_context)
    before = item(aws_tables, f"MAIL#verify#{user_id}")
    dynamodb_requests.clear()

    status, body = call(handler("send_verification"), event, lambda_context)

    assert (status, body["message"]) == (200, "Verification email sent.")
    assert dict(dynamodb_requests) == {"TransactWriteItems": 1}
    assert item(aws_tables, f"MAIL#verify#{user_id}") != before
    second = mailed_token(lambda_context, "verify", user_id, "verify-email")
    assert verify(lambda_context, first) == error(ErrorCode.INVALID_EMAIL_TOKEN)
    assert verify(lambda_context, second)[0] == 200


def test_send_for_a_verified_address_answers_the_same_and_mails_nothing(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    verify(lambda_context, mailed_token(lambda_context, "verify", user_id, "verify-email"))
    event = as_caller("send_verification_success", access_token(lambda_context), lambda_context)
    before = item(aws_tables, f"MAIL#verify#{user_id}")

    status, body = call(handler("send_verification"), event, lambda_context)

    assert (status, body["message"]) == (200, "Verification email sent.")
    assert item(aws_tables, f"MAIL#verify#{user_id}") == before
    sent = len(sent_mails())
    handler("send_mail")(mail_request_record("verify", user_id), lambda_context)
    assert len(sent_mails()) == sent


# --- RequireVerifiedEmail -----------------------------------------------------------------------


@pytest.fixture
def verified_email_required(monkeypatch: pytest.MonkeyPatch) -> None:
    from lockbox.core.settings import get_settings

    monkeypatch.setenv("REQUIRE_VERIFIED_EMAIL", "true")
    get_settings.cache_clear()


def attempts(client: Any) -> str | None:
    marker = item(client, "USERNAME#johndoe") or {}
    return marker.get("attempts", {}).get("N")


@pytest.mark.usefixtures("verified_email_required")
def test_an_unverified_login_is_refused_after_its_password_and_not_counted(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given RequireVerifiedEmail and an unverified account with one failed login, a login
    with the right password is 403 EMAIL_NOT_VERIFIED (two requests) and leaves the count
    as it was; a wrong password is still INVALID_CREDENTIALS."""
    assert token(lambda_context, USER["username"], "wrong-password") == error(
        ErrorCode.INVALID_CREDENTIALS
    )
    counted = attempts(aws_tables)
    dynamodb_requests.clear()

    refused = token(lambda_context, USER["username"], USER["password"])

    assert refused == error(ErrorCode.EMAIL_NOT_VERIFIED)
    assert sum(dynamodb_requests.values()) == 2
    assert attempts(aws_tables) == counted == "1"
    users_login = with_body(
        "users_login_success", {"email": USER["email"], "password": USER["password"]}
    )
    status, body = answer(handler("users_login"), users_login, lambda_context)
    assert (status, body) == (403, {"message": "Please verify your email address first."})


@pytest.mark.usefixtures("verified_email_required")
def test_a_verified_account_logs_in(user_id: str, lambda_context: Any) -> None:
    status, _ = verify(
        lambda_context, mailed_token(lambda_context, "verify", user_id, "verify-email")
    )
    assert status == 200

    assert token(lambda_context, USER["username"], USER["password"])[0] == 200
    assert token(lambda_context, USER["email"], USER["password"])[0] == 200
