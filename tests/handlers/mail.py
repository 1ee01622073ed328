"""The mail of the handler suite: stream records of mail requests for the sender, and the
mails moto's SES received."""

from __future__ import annotations

import re
from typing import Any

from lockbox_local.events import load_event

ACCOUNT_ID = "123456789012"  # moto's default account


def mail_request_record(kind: str, subject: str, sequence_number: str = "1") -> dict[str, Any]:
    """The stream batch of one written mail request `MAIL#<kind>#<subject>`."""
    event = load_event("send_mail_verify")
    stream = event["Records"][0]["dynamodb"]
    stream["Keys"]["pk"]["S"] = f"MAIL#{kind}#{subject}"
    stream["SequenceNumber"] = sequence_number
    return event


def sent_mails() -> list[Any]:
    """The mails moto's SES accepted, oldest first (each: source, destinations, subject,
    body: the HTML part, which moto keeps when there is one)."""
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT_ID]["us-east-1"].sent_messages)


def link_token(body: str, path: str) -> str:
    """The token of the `{AppUrl}/<path>?token=...` link in a mail's body."""
    found = re.search(rf"/{path}\?token=([A-Za-z0-9._-]+)", body)
    assert found, f"no {path} link in the mail"
    return found[1]


def mailed_token(context: Any, kind: str, subject: str, path: str) -> str:
    """Run the mail sender on the request `MAIL#<kind>#<subject>` (as the stream would
    deliver it) and return the token of the link it mailed."""
    from tests.handlers.calls import handler

    before = len(sent_mails())
    assert handler("send_mail")(mail_request_record(kind, subject), context) == {
        "batchItemFailures": []
    }
    mails = sent_mails()[before:]
    assert len(mails) == 1, f"expected one {kind} mail, got {len(mails)}"
    return link_token(mails[0].body, path)
