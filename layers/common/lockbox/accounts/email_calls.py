"""Business logic of the email calls (SPEC "Email: verification and recovery", "Account
details"): POST /api/email, POST /api/email/verify, POST /api/email/verify/send,
POST /api/password/forgot and POST /api/password/reset.

Using a link makes two DynamoDB requests: the profile its token names (it holds the
link's hash and names the markers), then one transaction that writes the change,
conditional on the link being unused and still the newest. Asking for a link makes one:
the mail request, which the mail sender (lockbox.mail.mail_sender) turns into a mail
(an address change, which checks the password first, three: as a password change).
"""

from __future__ import annotations

import time

from lockbox.accounts import account_records, email_records
from lockbox.accounts.email_inputs import ChangeEmailInput, ResetPasswordInput, VerifyEmailInput
from lockbox.accounts.emails import canonical_email
from lockbox.accounts.passwords import hash_password
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger
from lockbox.core.responses import Success
from lockbox.mail import mail_records
from lockbox.mail.links import LinkKind, token_owner
from lockbox.mfa.mfa_state import second_factor
from lockbox.sessions import attempt_records, session_records
from lockbox.sessions.session_calls import session_tokens, start_session


def verify_email(request: VerifyEmailInput) -> Success:
    """POST /api/email/verify: use a link mailed to an address: a verify link, or the
    confirm link of an address change (then the account takes the address)."""
    user_id = token_owner(request.token)
    holder = email_records.read_link_holder(user_id) if user_id else None
    if holder is None or user_id is None:
        raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)
    if holder.holds(LinkKind.EMAIL, request.token, int(time.time())):
        return _confirm_email_change(holder, request)
    origin = Activity("email_verified", user_agent=request.user_agent, source_ip=request.source_ip)
    if holder.holds(LinkKind.VERIFY, request.token, int(time.time())):
        try:
            email_records.verify_email(holder, request.token, put_event(user_id, origin))
        except email_records.LinkUsedError:
            raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN) from None
        logger.debug("Email verified", extra={"user_id": user_id})
        return Success(message="Email verified successfully.")
    raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)


# A confirmation that meets a profile changed since it was read (a recovery code spent,
# the password changed) reads it again; the link itself decides after that.
CONFIRM_ATTEMPTS = 3


def _confirm_email_change(holder: email_records.LinkHolder, request: VerifyEmailInput) -> Success:
    """The account takes the address its email link names (it counts as verified); the
    old one is free at once and is told. EMAIL_EXISTS if another account took it since."""
    user_id = holder.account.user_id
    origin = Activity("email_changed", user_agent=request.user_agent, source_ip=request.source_ip)
    for _ in range(CONFIRM_ATTEMPTS):
        new_email = email_records.pending_email(holder)
        if new_email is None or not holder.holds(LinkKind.EMAIL, request.token, int(time.time())):
            break
        try:
            email_records.change_email(
                holder, request.token, new_email, [put_event(user_id, origin)]
            )
        except email_records.EmailTakenError:
            raise ApiError(ErrorCode.EMAIL_EXISTS) from None
        except email_records.LinkUsedError:
            break
        except email_records.ProfileChangedError:
            again = email_records.read_link_holder(user_id)
            if again is None:
                break
            holder = again
            continue
        logger.debug("Email changed", extra={"user_id": user_id})
        return Success(message="Email verified successfully.")
    raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)


def change_email(request: ChangeEmailInput) -> Success:
    """POST /api/email: after the password, a confirm link to the new address (the mail
    sender mints it); the account keeps its address until the link is used. Three
    DynamoDB requests besides bcrypt, as a password change: the profile and the caller's
    session, the attempt's count, then one transaction with the mail request."""
    # The password check (login protection, step-up) is only this call's: imported here,
    # it stays out of the other email calls' cold starts (about 50 ms).
    from lockbox.accounts.account_calls import checked_attempt

    caller = request.caller
    account, session, _ = checked_attempt(caller, request.password)
    name = account_records.login_name(account)
    if canonical_email(request.new_email) == canonical_email(account.email):
        attempt_records.clear_count(name)  # a right password: the count is settled
        raise ApiError(ErrorCode.EMAIL_EXISTS)  # the account's own address
    try:
        email_records.request_email_change(
            account,
            request.new_email,
            session_records.still_alive(caller.user_id, session.session_id, session.created_at),
            attempt_records.reset_count(name),
        )
    except email_records.EmailTakenError:
        attempt_records.clear_count(name)
        raise ApiError(ErrorCode.EMAIL_EXISTS) from None
    except account_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    logger.debug("Email change requested", extra={"user_id": caller.user_id})
    return Success(message="Confirmation sent to the new address.")


def send_verification(user_id: str) -> Success:
    """POST /api/email/verify/send: a new verify link (older ones stop working when it is
    minted); for a verified address the same answer and no mail."""
    if email_records.request_verification_mail(user_id):
        logger.debug("Verification mail requested", extra={"user_id": user_id})
    return Success(message="Verification email sent.")


def forgot_password(email: str) -> Success:
    """POST /api/password/forgot: the same answer, in the same time, for any address: one
    conditional write of the address's reset request (its rate limit); whether an account
    has the address is looked up by the mail sender, after this call has answered."""
    mail_records.request_reset(email)
    return Success(message="If the address belongs to an account, a reset link has been sent.")


def second_factor_on(holder: email_records.LinkHolder) -> bool:
    """The one place a reset asks whether the account has a second factor (then it
    answers no session: the user logs in with both), as the profile it read holds it."""
    return second_factor(holder.item).enabled


def reset_password(request: ResetPasswordInput) -> Success:
    """POST /api/password/reset: use a reset link to set a new password; every session
    ends, the name's lockout is cleared, the address counts as verified, and the answer is
    a new session's tokens as /api/token's (unless the account has a second factor).
    Two DynamoDB requests: the profile the link names, then one transaction."""
    user_id = token_owner(request.token)
    holder = email_records.read_link_holder(user_id) if user_id else None
    if holder is None or user_id is None:
        raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)
    if not holder.holds(LinkKind.RESET, request.token, int(time.time())):
        raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN)
    new_hash = hash_password(request.new_password)
    origin = Activity("password_reset", user_agent=request.user_agent, source_ip=request.source_ip)
    session = (
        None if second_factor_on(holder) else start_session(user_id, user_agent=request.user_agent)
    )
    # Every session that began before the new one ends (sessions_valid_after).
    end_before = session.record.created_at - 1 if session else session_records.now_microseconds()
    written = [session_records.put_session(session.record)] if session else []
    try:
        email_records.reset_password(
            holder, request.token, new_hash, end_before, [*written, put_event(user_id, origin)]
        )
    except email_records.LinkUsedError:
        raise ApiError(ErrorCode.INVALID_EMAIL_TOKEN) from None
    logger.debug("Password reset", extra={"user_id": user_id})
    message = "Password reset successfully."
    return Success(message=message, data=session_tokens(session) if session else None)
