"""Business logic of the profile calls: GET and PATCH /api/account and GET /users/profile,
and the caller's profile as they answer it (the export's first page too), without the
password machinery (lockbox.accounts.account_calls), whose modules would slow their cold
starts."""

from __future__ import annotations

from typing import Any

from lockbox.accounts import account_records
from lockbox.accounts.account_inputs import UpdateAccountInput
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger
from lockbox.core.responses import Success, express_user


def account_of(user_id: str) -> account_records.Account:
    """The caller's account (one GetItem); INVALID_TOKEN when it was deleted since its
    token was checked."""
    account = account_records.read_account(user_id)
    if account is None:
        raise ApiError(ErrorCode.INVALID_TOKEN)
    return account


def _joined_name(fields: dict[str, str | int]) -> str:
    # An account from /users/register has a firstname and maybe a lastname.
    return " ".join(str(fields[name]) for name in ("firstname", "lastname") if name in fields)


def account_profile(user_id: str) -> dict[str, Any]:
    """The caller's account as GET /api/account answers it (one GetItem)."""
    return account_data(account_of(user_id))


def account_data(account: account_records.Account) -> dict[str, Any]:
    """`{"user_id", "username", "email", "full_name", "age", "gender", "created_at"}`,
    never a password or its hash."""
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


def get_account(user_id: str) -> Success:
    """GET /api/account: the caller's profile."""
    return Success(data=account_profile(user_id))


def update_account(request: UpdateAccountInput) -> Success:
    """PATCH /api/account: set the fields sent, answer the account as GET /api/account does.

    Two DynamoDB requests: the profile read (the answer's other fields, and the markers a
    new name is also written to), then one transaction with the `account_updated` event."""
    caller = request.caller
    account = account_of(caller.user_id)
    updated = Activity("account_updated", caller.session_id, caller.user_agent, caller.source_ip)
    try:
        account = account_records.update_profile(
            account, request.changes, put_event(caller.user_id, updated)
        )
    except account_records.AccountGoneError:  # deleted since it was read
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    logger.debug(
        "Account updated", extra={"user_id": caller.user_id, "fields": sorted(request.changes)}
    )
    return Success(message="Account updated successfully.", data=account_data(account))


def users_profile(user_id: str) -> Success:
    """GET /users/profile: the caller as the /users front ends' user object."""
    account = account_of(user_id)
    return Success(data=express_user(user_id, account.email, account.fields))
