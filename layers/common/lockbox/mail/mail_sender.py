"""Business logic of the mail sender (template.yaml SendMailFunction): the users table's
stream hands it the keys of written mail requests (lockbox.mail.mail_records); for each it
mints the link, keeps the link's hash on the profile, and sends the mail through Amazon
SES's v2 API from MailFrom, the link pointing at AppUrl.

A request whose mail cannot be sent (SES throttled or down) is reported failed, so Lambda
delivers it again, a bounded number of times; then its batch goes to the failure queue,
which is alarmed. A mail sent again mints a new link, which replaces the older one. No
token, link or address is logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.accounts.user_keys import mail_request_of
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.aws_clients import new_client
from lockbox.core.observability import count_internal_error, logger, metrics
from lockbox.mail import mail_records
from lockbox.mail.links import EMAIL_LINK_SECONDS, VERIFY_LINK_SECONDS, LinkKind, new_link
from lockbox.mail.messages import Message, greeting, render


class MailSettings(NamedTuple):
    mail_from: str  # MailFrom: the sender, an identity verified in SES
    app_url: str  # AppUrl: the front end the links open
    reset_link_seconds: int  # ResetLinkLifetime

    @classmethod
    def from_environment(cls) -> MailSettings:
        return cls(
            mail_from=os.environ["MAIL_FROM"],
            app_url=os.environ["APP_URL"].rstrip("/"),
            reset_link_seconds=int(os.environ.get("RESET_LINK_LIFETIME", "3600")),
        )


@cache
def mail_settings() -> MailSettings:
    return MailSettings.from_environment()


@cache
def sesv2_client() -> Any:
    """The container's SES (v2) client; AWS_ENDPOINT_URL_SESV2 points it at the local
    stand-in (lockbox_local.mailbox)."""
    return new_client("sesv2")


class MailRequest(NamedTuple):
    kind: str
    subject: str  # a user id or a canonical address, by kind
    sequence_number: str


class Outgoing(NamedTuple):
    to: str
    message: Message


def mail_requests(event: dict[str, Any]) -> list[MailRequest]:
    """The mail requests among the stream records (the template's filter passes only
    written ones; a removal is never a request)."""
    found = []
    for record in event.get("Records", []):
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        stream = record.get("dynamodb", {})
        request = mail_request_of(stream.get("Keys", {}).get("pk", {}).get("S", ""))
        if request is not None:
            found.append(MailRequest(*request, str(stream.get("SequenceNumber", ""))))
    return found


def profile_names(profile: dict[str, Any]) -> dict[str, str]:
    return {
        name: profile[name]["S"]
        for name in ("full_name", "firstname", "username")
        if "S" in profile.get(name, {})
    }


def link_url(path: str, token: str) -> str:
    return f"{mail_settings().app_url}/{path}?token={token}"


def verification_mail(user_id: str) -> Outgoing | None:
    """A verify link to the account's address; none once it is verified or gone."""
    link = new_link(user_id)
    profile = mail_records.open_link(
        user_id,
        LinkKind.VERIFY,
        link.token_hash,
        int(time.time()) + VERIFY_LINK_SECONDS,
        mail_records.NOT_VERIFIED,
        {":false": {"BOOL": False}},
    )
    if profile is None:
        return None
    values = {
        "greeting": greeting(profile_names(profile)),
        "link": link_url("verify-email", link.token),
    }
    return Outgoing(to=profile["email"]["S"], message=render("verify_email", values))


def reset_mail(address: str) -> Outgoing | None:
    """A reset link to the account that has this canonical address; none for an address
    no account has (the call answered the same either way)."""
    owner = mail_records.read_address_owner(address)
    if owner is None:
        return None
    user_id = owner["user_id"]["S"]
    link = new_link(user_id)
    seconds = mail_settings().reset_link_seconds
    requested = put_event(user_id, Activity("password_reset_requested"))
    if not mail_records.open_reset_link(
        user_id, link.token_hash, int(time.time()) + seconds, requested
    ):
        return None
    values = {
        "greeting": greeting(profile_names(owner)),
        "link": link_url("reset-password", link.token),
        "hours": f"{seconds / 3600:g}",
    }
    return Outgoing(to=owner["email"]["S"], message=render("reset_password", values))


def email_change_mail(user_id: str) -> Outgoing | None:
    """A confirm link to the new address an account asked for (POST /api/email); the
    link names it on the profile. None once the request or the account is gone."""
    request = mail_records.read_request(mail_records.MailKind.EMAIL, user_id)
    if request is None:
        return None
    new_email = request["new_email"]["S"]
    link = new_link(user_id)
    profile = mail_records.open_link(
        user_id,
        LinkKind.EMAIL,
        link.token_hash,
        int(time.time()) + EMAIL_LINK_SECONDS,
        pending_email=new_email,
    )
    if profile is None:
        return None
    values = {
        "greeting": greeting(profile_names(profile)),
        "link": link_url("verify-email", link.token),
        "address": new_email,
    }
    return Outgoing(to=new_email, message=render("confirm_email", values))


def email_changed_mail(user_id: str) -> Outgoing | None:
    """The notice to the address an account left when its change was confirmed; the
    request holds the old address and the names, since the profile no longer does."""
    request = mail_records.read_request(mail_records.MailKind.EMAIL_CHANGED, user_id)
    if request is None:
        return None
    changed_at = int(request["requested_at"]["N"]) / 1000
    values = {
        "greeting": greeting(profile_names(request)),
        "changed_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(changed_at)),
    }
    return Outgoing(to=request["old_email"]["S"], message=render("email_changed", values))


# The mail of each kind of request, or None when there is none to send.
COMPOSERS: dict[str, Callable[[str], Outgoing | None]] = {
    mail_records.MailKind.VERIFY: verification_mail,
    mail_records.MailKind.RESET: reset_mail,
    mail_records.MailKind.EMAIL: email_change_mail,
    mail_records.MailKind.EMAIL_CHANGED: email_changed_mail,
}


def send(outgoing: Outgoing) -> str:
    """Send through SES (v2); the message id."""
    charset = "UTF-8"
    response = sesv2_client().send_email(
        FromEmailAddress=mail_settings().mail_from,
        Destination={"ToAddresses": [outgoing.to]},
        Content={
            "Simple": {
                "Subject": {"Data": outgoing.message.subject, "Charset": charset},
                "Body": {
                    "Text": {"Data": outgoing.message.text, "Charset": charset},
                    "Html": {"Data": outgoing.message.html, "Charset": charset},
                },
            }
        },
    )
    return str(response["MessageId"])


def send_requested_mail(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The stream batch's answer: the first request whose mail failed, and every one after
    it, are delivered again (ReportBatchItemFailures)."""
    for request in mail_requests(event):
        compose = COMPOSERS.get(request.kind)
        if compose is None:
            logger.warning("Unknown kind of mail request", extra={"kind": request.kind})
            continue
        try:
            outgoing = compose(request.subject)
            if outgoing is None:
                logger.info("No mail to send", extra={"kind": request.kind})
                continue
            message_id = send(outgoing)
        except Exception:
            logger.exception("Mail failed; it is retried", extra={"kind": request.kind})
            count_internal_error(context)
            return {"batchItemFailures": [{"itemIdentifier": request.sequence_number}]}
        logger.info("Mail sent", extra={"kind": request.kind, "message_id": message_id})
        metrics.add_metric(name="MailsSent", unit=MetricUnit.Count, value=1)
    return {"batchItemFailures": []}
