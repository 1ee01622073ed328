"""Business logic of the account calls that check the password: POST /api/password and
DELETE /api/account (the profile calls, which need none, are lockbox.accounts.profiles).

Password change and deletion make three DynamoDB requests besides the bcrypt check: the
profile (it holds the password hash and names the markers) and the caller's session are
read together, the attempt is counted in the login protection of the account's name, then
one transaction writes every item, conditional on the hash being the one just checked and
the caller's session being alive (or, for a wrong password, the failure is recorded).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts import account_records
from lockbox.accounts.account_inputs import DeleteAccountInput, PasswordInput
from lockbox.accounts.passwords import hash_password, refuse_context_words, verify_password
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success
from lockbox.mfa.mfa_records import CodeRefusedError
from lockbox.mfa.step_up import refuse_code, step_up
from lockbox.sessions import attempt_records, session_records
from lockbox.sessions.login_calls import counted_attempt, failure_events
from lockbox.sessions.session_inputs import SessionCaller


def _password_hash(account: account_records.Account) -> str | None:
    if account.password_hash is not None:
        return account.password_hash
    # A profile written before it kept the hash: the email marker has it.
    record = account_records.read_login(account.email)
    return record.password_hash if record and record.user_id == account.user_id else None


def _mfa_failed(caller: SessionCaller) -> Activity:
    return Activity("mfa_failed", caller.session_id, caller.user_agent, caller.source_ip)


def checked_attempt(
    caller: SessionCaller, password: str, new_password: str | None = None
) -> tuple[account_records.Account, account_records.Caller, attempt_records.CountedAttempt]:
    """The caller's account once `password` proved to be its password, counted in the login
    protection of the account's name as a login is (SPEC.md, "Account"): TOO_MANY_REQUESTS
    while the name is locked, INVALID_CREDENTIALS for a wrong password, INVALID_TOKEN when
    the account or the caller's session has ended. With it, the caller's session as read,
    and the counted attempt (a second-factor check that follows may still fail it).
    A `new_password` containing the account's words is INVALID_PASSWORD, before the count,
    as the rest of the policy is."""
    account, alive_since = account_records.read_account_of_session(
        caller.user_id, caller.session_id
    )
    if account is None or alive_since is None:  # ended since its token was checked
        raise ApiError(ErrorCode.INVALID_TOKEN)
    if new_password is not None:
        context = account_records.password_context(account)
        refuse_context_words(new_password, context, "new_password")
    name = account_records.login_name(account)
    record = counted_attempt(name)
    if not verify_password(password, _password_hash(account)):
        origin = Activity("login_failed", caller.session_id, caller.user_agent, caller.source_ip)
        attempt_records.record_failure(name, failure_events(record, origin))
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    return account, account_records.Caller(caller.session_id, alive_since), record


def change_password(request: PasswordInput) -> Success:
    """POST /api/password: check the current password, store the new one everywhere and
    end every other session of the user; the caller's session goes on.

    Three DynamoDB requests besides bcrypt: the profile and the caller's session read
    together, the attempt counted on the account's name, then one transaction that writes
    the password (and clears the count), or one update that records the failure."""
    caller = request.caller
    account, session, attempt = checked_attempt(
        caller, request.current_password, new_password=request.new_password
    )
    code_use = step_up(account, attempt, request.code, _mfa_failed(caller))
    new_hash = hash_password(request.new_password)
    try:
        changed = Activity(
            "password_changed", caller.session_id, caller.user_agent, caller.source_ip
        )
        account_records.write_password(
            account,
            new_hash,
            session,
            session_records.now_microseconds(),
            put_event(caller.user_id, changed),
            code_use,
        )
    except CodeRefusedError:  # used meanwhile by another request
        raise refuse_code(
            account_records.login_name(account), attempt, _mfa_failed(caller)
        ) from None
    except account_records.AccountChangedError:
        # Its password changed meanwhile: the one checked above is no longer it.
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    except account_records.AccountGoneError:
        # The account, or the caller's session, ended meanwhile: it never comes back.
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    logger.debug("Password changed", extra={"user_id": caller.user_id})
    return Success(message="Password changed successfully.")


def delete_account(request: DeleteAccountInput) -> Success:
    """DELETE /api/account: check the password, remove the profile and its markers (every
    session ends with the profile); the user's items are purged in the background.

    Three DynamoDB requests besides bcrypt, as for a password change. A deletion that
    another (simultaneous or retried) deletion beat answers INVALID_TOKEN: its session
    ended with the account; never INVALID_CREDENTIALS for the right password."""
    caller = request.caller
    account, _, attempt = checked_attempt(caller, request.password)
    code_use = step_up(account, attempt, request.code, _mfa_failed(caller))
    try:
        account_records.remove_account(account, code_use)
    except CodeRefusedError:  # used meanwhile by another request
        raise refuse_code(
            account_records.login_name(account), attempt, _mfa_failed(caller)
        ) from None
    except account_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    except account_records.AccountChangedError:
        # Its password changed meanwhile (by this session: any other one has ended).
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    metrics.add_metric(name="AccountDeletions", unit=MetricUnit.Count, value=1)
    logger.debug("Account deleted", extra={"user_id": request.caller.user_id})
    return Success(message="Account deleted successfully.")
