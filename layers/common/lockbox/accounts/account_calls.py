"""Business logic of the account calls: GET /api/account, POST /api/password,
DELETE /api/account and GET /users/profile.

Password change and deletion make two DynamoDB requests besides the bcrypt check: the
profile is read (it holds the password hash and names the markers), then one
transaction writes every item, conditional on the hash being the one just checked.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts import account_records
from lockbox.accounts.account_inputs import DeleteAccountInput, PasswordInput
from lockbox.accounts.passwords import hash_password, verify_password
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success, express_user
from lockbox.sessions import session_records


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


def change_password(request: PasswordInput) -> Success:
    """POST /api/password: check the current password, store the new one everywhere and
    end every other session of the user; the caller's session goes on."""
    caller = request.caller
    account = _account_of(caller.user_id)
    if not verify_password(request.current_password, _password_hash(account)):
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    new_hash = hash_password(request.new_password)
    try:
        account_records.write_password(
            account, new_hash, caller.session_id, session_records.now_microseconds()
        )
    except account_records.AccountChangedError:
        # Its password changed meanwhile: the one checked above is no longer it.
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    logger.info("Password changed", extra={"user_id": caller.user_id})
    return Success(message="Password changed successfully.")


def delete_account(request: DeleteAccountInput) -> Success:
    """DELETE /api/account: check the password, remove the profile and its markers (every
    session ends with the profile); the user's items are purged in the background."""
    account = _account_of(request.user_id)
    if not verify_password(request.password, _password_hash(account)):
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    try:
        account_records.remove_account(account)
    except account_records.AccountChangedError:
        raise ApiError(ErrorCode.INVALID_CREDENTIALS) from None
    metrics.add_metric(name="AccountDeletions", unit=MetricUnit.Count, value=1)
    logger.info("Account deleted", extra={"user_id": request.user_id})
    return Success(message="Account deleted successfully.")
