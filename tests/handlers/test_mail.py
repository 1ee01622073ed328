"""The mail sender (SendMailFunction): stream records of mail requests in, links minted
and kept as hashes on the profile, mails out through SES (moto's)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import pytest

from tests.handlers.accounts import USER, set_on_profile
from tests.handlers.calls import handler
from tests.handlers.mail import link_token, mail_request_record, sent_mails
from tests.support import APP_URL, MAIL_FROM


def profile(client: Any, user_id: str) -> dict[str, Any]:
    item: dict[str, Any] = client.get_item(
        TableName="UsersTable", Key={"pk": {"S": f"USER#{user_id}"}}
    )["Item"]
    return item


def test_a_verification_request_mails_a_link_whose_hash_alone_is_kept(
    user_id: str, aws_tables: Any, lambda_context: Any, dynamodb_requests: Counter[str]
) -> None:
    """Given an account and its verification mail request, when the sender gets the
    request's stream record, then the account's address gets one mail from MailFrom with
    a link to AppUrl's verify page, and the profile keeps the token's SHA-256 only."""
    before = len(sent_mails())

    answer = handler("send_mail")(mail_request_record("verify", user_id), lambda_context)

    assert answer == {"batchItemFailures": []}
    assert dict(dynamodb_requests) == {"UpdateItem": 1}
    (mail,) = sent_mails()[before:]
    assert mail.source == MAIL_FROM
    assert mail.destinations["ToAddresses"] == [USER["email"]]
    assert mail.subject == "Verify your email address"
    assert f"{APP_URL}/verify-email?token=" in mail.body
    token = link_token(mail.body, "verify-email")
    assert token.startswith(f"{user_id}.")
    stored = profile(aws_tables, user_id)
    assert stored["verify_link_hash"]["S"] == hashlib.sha256(token.encode()).hexdigest()
    table = json.dumps(aws_tables.scan(TableName="UsersTable")["Items"])
    assert token.split(".")[1] not in table


def test_a_new_request_replaces_the_older_link(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given a link mailed, when another is requested, then the profile keeps the newest
    link's hash only."""
    before = len(sent_mails())
    handler("send_mail")(mail_request_record("verify", user_id), lambda_context)
    handler("send_mail")(mail_request_record("verify", user_id), lambda_context)

    first, second = (link_token(m.body, "verify-email") for m in sent_mails()[before:])
    assert first != second
    stored = profile(aws_tables, user_id)["verify_link_hash"]["S"]
    assert stored == hashlib.sha256(second.encode()).hexdigest()


def test_no_mail_for_a_verified_or_missing_account(
    user_id: str, aws_tables: Any, lambda_context: Any
) -> None:
    """Given a verified account and an unknown user id, when their requests come, then no
    mail is sent and no record is reported failed."""
    set_on_profile(aws_tables, user_id, "email_verified", {"BOOL": True})
    before = len(sent_mails())

    verified = handler("send_mail")(mail_request_record("verify", user_id), lambda_context)
    missing = handler("send_mail")(mail_request_record("verify", "no-such-user"), lambda_context)

    assert verified == missing == {"batchItemFailures": []}
    assert sent_mails()[before:] == []


def test_a_mail_ses_refuses_is_delivered_again_with_the_records_after_it(
    user_id: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given SES failing, when a batch of two requests comes, then the first is reported
    failed (Lambda delivers it and every later record again), never dropped."""
    from lockbox.mail import mail_sender

    def refused(**_: Any) -> Any:
        raise RuntimeError("SES is down")

    monkeypatch.setattr(mail_sender.sesv2_client(), "send_email", refused)
    event = mail_request_record("verify", user_id, "10")
    event["Records"].append(mail_request_record("verify", user_id, "11")["Records"][0])

    answer = handler("send_mail")(event, lambda_context)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "10"}]}


def test_removals_and_other_items_are_not_mail_requests(user_id: str, lambda_context: Any) -> None:
    """Given the TTL removal of a mail request and a profile's record, when they come,
    then nothing is sent."""
    event = mail_request_record("verify", user_id)
    event["Records"][0]["eventName"] = "REMOVE"
    profile_record = mail_request_record("verify", user_id)["Records"][0]
    profile_record["dynamodb"]["Keys"]["pk"]["S"] = f"USER#{user_id}"
    event["Records"].append(profile_record)
    before = len(sent_mails())

    assert handler("send_mail")(event, lambda_context) == {"batchItemFailures": []}
    assert sent_mails()[before:] == []


def test_the_html_body_escapes_what_the_account_wrote(aws_tables: Any, lambda_context: Any) -> None:
    """Given an account named with markup, when it is mailed, then the HTML body carries
    the name escaped and the text body as written."""
    from lockbox.mail.messages import render

    message = render(
        "verify_email", {"greeting": "Hello <b>Eve</b>,", "link": "https://x/?a=1&b=2"}
    )

    assert "Hello &lt;b&gt;Eve&lt;/b&gt;," in message.html
    assert 'href="https://x/?a=1&amp;b=2"' in message.html
    assert "Hello <b>Eve</b>," in message.text
