"""Business logic of the email calls (SPEC "Email: verification and recovery"):
POST /api/email/verify and POST /api/email/verify/send.

Using a link makes two DynamoDB requests: the profile its token names (it holds the
link's hash and names the markers), then one transaction that writes the change,
conditional on the link being unused and still the newest. Asking for a link makes one:
the mail request, which the mail sender (lockbox.mail.mail_sender) turns into a mail.
"""

from __future__ import annotations

import time

from lockbox.accounts import email_records
from lockbox.accounts.email_inputs import VerifyEmailInput
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger
from lockbox.core.responses import Success
from lockbox.mail.links import LinkKind, token_owner


def verify_email(request: VerifyEmailInput) -> Success:
    """POST /api/email/verify: use a link mailed to an address."""
    user_id = token_owner(request.token)
    holder = email_records.read_link_holder(user_id) if user_id else None
    if holder is None or user_id is None:
        raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)
    origin = Activity("email_verified", user_agent=request.user_agent, source_ip=request.source_ip)
    if holder.holds(LinkKind.VERIFY, request.token, int(time.time())):
        try:
            email_records.verify_email(holder, request.token, put_event(user_id, origin))
        except email_records.LinkUsedError:
            raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN) from None
        logger.info("Email verified", extra={"user_id": user_id})
        return Success(message="Email verified successfully.")
    raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)


def send_verification(user_id: str) -> Success:
    """POST /api/email/verify/send: a new verify link (older ones stop working when it is
    minted); for a verified address the same answer and no mail."""
    if email_records.request_verification_mail(user_id):
        logger.info("Verification mail requested", extra={"user_id": user_id})
    return Success(message="Verification email sent.")
