"""The caller's profile as GET /api/account answers it, for the calls that answer it (the
account call and the export's first page) without importing the password machinery."""

from __future__ import annotations

from typing import Any

from lockbox.accounts import account_records
from lockbox.core.errors import ApiError, ErrorCode


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
