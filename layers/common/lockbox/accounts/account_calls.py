"""Business logic of the account calls: GET /api/account, POST /api/password,
DELETE /api/account and GET /users/profile.

Password change and deletion make three DynamoDB requests besides the bcrypt check: the
profile (it holds the password hash and names the markers) and the caller's session are
read together, the attempt is counted in the login protection of the account's name, then
one transaction writes every item, conditional on the hash being the one just checked and
the caller's session being alive (or, for a wrong password, the failure is recorded).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts import account_records
from lockbox.accounts.account_inputs import DeleteAccountInput, PasswordInput
from lockbox.accounts.passwords import hash_password, verify_password
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success, express_user
from lockbox.sessions import attempt_records, session_records
from lockbox.sessions.login_calls import counted_attempt, failure_events
from lockbox.sessions.session_inputs import SessionCaller


def _account_of(user_id: str) -> account_records.Account:
    account = account_records.read_account(user_id)
    if account is None:  # deleted since its token was checked
        raise ApiError(ErrorCode.INVALID_TOKEN)
    return account


def _account_data(account: account_records.Account) -> dict[str, Any]:
    fields = account.fields
    return {
        "user_id": account.user_id,
        "username": fields.get("username"),
        "email": account.email,
        "full_name": fields.get("full_name", _joined_name(fields)),
        "age": fields.get("age"),
        "gender": fields.get("gender"),
        "created_at": account.created_at,
        "email_verified": account.email_verified,
    }


def _joined_name(fields: dict[str, str | int]) -> str:
    # An account from /users/register has a firstname and maybe a lastname.
    return " ".join(str(fields[name]) for name in ("firstname", "lastname") if name in fields)


def get_account(user_id: str) -> Success:
    """GET /api/account: the caller's profile (one GetItem), never the password hash."""
    return Success(data=_account_data(_account_of(user_id)))


def users_profile(user_id: str) -> Success:
    """GET /users/profile: the caller as the /users front ends' user object."""
    account = _account_of(user_id)
    return Success(data=express_user(user_id, account.email, account.fields))


def _password_hash(account: account_records.Account) -> str | None:
    if account.password_hash is not None:
        return account.password_hash
    # A profile written before it kept the hash: the email marker has it.
    record = account_records.read_login(account.email)
    return record.password_hash if record and record.user_id == account.user_id else None


def _checked_account(
    caller: SessionCaller, password: str
) -> tuple[account_records.Account, account_records.Caller]:
    """The caller's account once `password` proved to be its password, counted in the login
    protection of the account's name as a login is (SPEC.md, "Account"): TOO_MANY_REQUESTS
    while the name is locked, INVALID_CREDENTIALS for a wrong password, INVALID_TOKEN when
    the account or the caller's session has ended. With it, the caller's session as read."""
    account, alive_since = account_records.read_account_of_session(
        caller.user_id, caller.session_id
    )
    if account is None or alive_since is None:  # ended since its token was checked
        raise ApiError(ErrorCode.INVALID_TOKEN)
    name = account_records.login_name(account)
    record = counted_attempt(name)
    if not verify_password(password, _password_hash(account)):
        origin = Activity("login_failed", caller.session_id, caller.user_agent, caller.source_ip)
        attempt_records.record_failure(name, failure_events(record, origin))
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    return account, account_records.Caller(caller.session_id, alive_since)


def change_password(request: PasswordInput) -> Success:
    """POST /api/password: check the current password, store the new one everywhere and
    end every other session of the user; the caller's session goes on.

    Three DynamoDB requests besides bcrypt: the profile and the caller's session read
    together, the attempt counted on the account's name, then one transaction that writes
    the password (and clears the count), or one update that records the failure."""
    caller = request.caller
    account, session = _checked_account(caller, request.current_password)
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
        )
    except account_records.AccountChangedError:
        # Its password changed meanwhile: the one checked above is no longer it.
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    except account_records.AccountGoneError:
        # The account, or the caller's session, ended meanwhile: it never comes back.
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    logger.info("Password changed", extra={"user_id": caller.user_id})
    return Success(message="Password changed successfully.")


def delete_account(request: DeleteAccountInput) -> Success:
    """DELETE /api/account: check the password, remove the profile and its markers (every
    session ends with the profile); the user's items are purged in the background.

    Three DynamoDB requests besides bcrypt, as for a password change. A deletion that
    another (simultaneous or retried) deletion beat answers INVALID_TOKEN: its session
    ended with the account; never INVALID_CREDENTIALS for the right password."""
    account, _ = _checked_account(request.caller, request.password)
    try:
        account_records.remove_account(account)
    except account_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    except account_records.AccountChangedError:
        # Its password changed meanwhile (by this session: any other one has ended).
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    metrics.add_metric(name="AccountDeletions", unit=MetricUnit.Count, value=1)
    logger.info("Account deleted", extra={"user_id": request.caller.user_id})
    return Success(message="Account deleted successfully.")
