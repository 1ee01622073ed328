"""Data access for accounts in the users table: profiles and their name markers
(the kinds of item and their keys: lockbox.accounts.user_keys).

A registration writes the profile, its markers and its first session (for /users) in one
transaction, so either all of them exist or none does. The password hash is on the
markers and on the profile; a password change updates all of them in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from lockbox.accounts.passwords import PasswordContext
from lockbox.accounts.user_keys import (
    USERNAME_MARKER,
    email_pk,
    login_pk,
    recheck_pk,
    session_pk,
    user_pk,
    username_pk,
)
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.mail import mail_records
from lockbox.mail.links import LINK_ATTRIBUTES
from lockbox.mfa.mfa_records import CodeRefusedError, with_code_use
from lockbox.mfa.mfa_state import NO_FACTOR, CodeUse, SecondFactor, code_unused, second_factor
from lockbox.sessions import attempt_records, session_records

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class NewUser(NamedTuple):
    user_id: str
    email: str
    password_hash: str
    created_at: str
    profile: Mapping[str, str | int]  # everything else the client may read back
    username: str | None = None  # accounts from /users/register have none


class Account(NamedTuple):
    """A profile as stored, for the account calls."""

    user_id: str
    email: str
    created_at: str
    fields: dict[str, str | int]  # username, full_name, age, gender or firstname, lastname
    password_hash: str | None  # None on profiles written before it was kept there
    factor: SecondFactor = NO_FACTOR  # the second factor (lockbox.mfa.mfa_state)
    email_verified: bool = False  # set by a verify link (lockbox.accounts.email_calls)


class LoginRecord(NamedTuple):
    user_id: str
    password_hash: str


class UsernameTakenError(Exception):
    pass


class EmailTakenError(Exception):
    pass


class RegistrationContendedError(Exception):
    """The transaction kept conflicting with concurrent ones; nothing was written."""


# What a marker repeats from the profile for the /users login's user object.
MARKER_PROFILE_FIELDS = ("full_name", "firstname", "lastname")


def put_user(user: NewUser, session: TransactWriteItemTypeDef | None = None) -> None:
    """Write the profile and its markers atomically; raise if the username or email is taken.
    The account's verification mail request (lockbox.mail) is written with them.

    `session` (lockbox.sessions.session_records.put_session) is written in the same transaction.
    """
    table = get_settings().users_table
    profile: dict[str, Any] = {
        "pk": {"S": user_pk(user.user_id)},
        "user_id": {"S": user.user_id},
        "email": {"S": user.email},
        "created_at": {"S": user.created_at},
        "password_hash": {"S": user.password_hash},
        **{name: _attribute(value) for name, value in user.profile.items()},
    }
    if user.username is not None:
        profile["username"] = {"S": user.username}
    login = {
        "user_id": {"S": user.user_id},
        "password_hash": {"S": user.password_hash},
        "created_at": {"S": user.created_at},
        "email": {"S": user.email},
        **{
            name: _attribute(value)
            for name, value in user.profile.items()
            if name in MARKER_PROFILE_FIELDS
        },
    }
    markers = [email_pk(user.email)]
    if user.username is not None:
        markers.insert(0, username_pk(user.username))
    items: list[TransactWriteItemTypeDef] = [_put_if_absent(table, profile, "pk")]
    # A marker may already hold a login attempt count for its name, but no account.
    items += [_put_if_absent(table, {"pk": {"S": pk}, **login}, "user_id") for pk in markers]
    if session is not None:
        items.append(session)
    items.append(mail_records.request_verification(user.user_id))  # SPEC: a mail on registration
    _transact_with_retries(items, markers)


def read_login(login: str) -> LoginRecord | None:
    """The login record for a username or email (case-insensitive), or None."""
    response = dynamodb.client().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": login_pk(login)}},
        ProjectionExpression="user_id, password_hash",
        ConsistentRead=True,  # a token right after registration must find the account
    )
    item = response.get("Item")
    if item is None:
        return None
    return LoginRecord(user_id=item["user_id"]["S"], password_hash=item["password_hash"]["S"])


def _attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _put_if_absent(table: str, item: dict[str, Any], attribute: str) -> TransactWriteItemTypeDef:
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": f"attribute_not_exists({attribute})",
        }
    }


def _transact_with_retries(items: list[TransactWriteItemTypeDef], markers: list[str]) -> None:
    """Write the registration; a taken marker raises its error. Another registration holding
    one of our markers (a conflict) commits or fails shortly, so it is tried again."""
    try:
        dynamodb.transact_write(items)
    except ClientError as error:
        codes = dynamodb.cancellation_codes(error)
        if codes is None:
            raise
        _raise_if_taken(codes, markers)
        raise RegistrationContendedError(",".join(codes)) from None


def _raise_if_taken(reasons: list[str], markers: list[str]) -> None:
    # Reasons come in the order of the items: the profile first, then the markers.
    for pk, reason in zip(markers, reasons[1:], strict=False):
        if reason == dynamodb.CONDITION_FAILED:
            raise (UsernameTakenError if pk.startswith(USERNAME_MARKER) else EmailTakenError)()


def read_account(user_id: str) -> Account | None:
    """The user's profile (one GetItem), or None when the account does not exist."""
    response = dynamodb.client().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": user_pk(user_id)}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return None if item is None else _account(user_id, item)


def read_account_of_session(user_id: str, session_id: str) -> tuple[Account | None, int | None]:
    """The user's profile and, if the caller's session is alive, its `created_at`: one
    BatchGetItem of both items (for the calls that change the account; their writes check
    again that the session is alive)."""
    profile, session = dynamodb.get_items(
        get_settings().users_table,
        [{"pk": {"S": user_pk(user_id)}}, {"pk": {"S": session_pk(session_id)}}],
    )
    if profile is None:
        return None, None
    alive_since = session_records.alive_since(session, profile, user_id, session_id)
    return _account(user_id, profile), alive_since


def _account(user_id: str, item: dict[str, Any]) -> Account:
    fields: dict[str, str | int] = {}
    for name in ("username", "full_name", "age", "gender", "firstname", "lastname"):
        if name in item:
            value = item[name]
            fields[name] = int(value["N"]) if "N" in value else value["S"]
    return Account(
        user_id=user_id,
        email=item["email"]["S"],
        created_at=item["created_at"]["S"],
        fields=fields,
        password_hash=item.get("password_hash", {}).get("S"),
        factor=second_factor(item),
        email_verified=item.get("email_verified", {}).get("BOOL") is True,
    )


def account_of_item(user_id: str, item: dict[str, Any]) -> Account:
    """The Account of a profile item read elsewhere (the email calls read its links too)."""
    return _account(user_id, item)


def login_name(account: Account) -> str:
    """The name whose login protection counts the account's password checks behind a
    token: its username, or its email address for accounts without one."""
    username = account.fields.get("username")
    return username if isinstance(username, str) else account.email


def password_context(account: Account) -> PasswordContext:
    """The words the account's password may not contain: its username and email."""
    username = account.fields.get("username")
    return PasswordContext(username if isinstance(username, str) else None, account.email)


def account_markers(account: Account) -> list[str]:
    markers = [email_pk(account.email)]
    username = account.fields.get("username")
    if isinstance(username, str):
        markers.insert(0, username_pk(username))
    return markers


def _unchanged_hash(account: Account) -> tuple[str, dict[str, Any]]:
    """The profile's condition: its password is still the one the caller proved."""
    if account.password_hash is None:
        return "attribute_exists(pk) AND attribute_not_exists(password_hash)", {}
    return "password_hash = :old_hash", {":old_hash": {"S": account.password_hash}}


class AccountChangedError(Exception):
    """The account's password changed between reading it and writing: nothing was written."""


class AccountGoneError(Exception):
    """The account, or the caller's session, ended between reading it and writing:
    nothing was written."""


class Caller(NamedTuple):
    """The session making an account call, as read with the account: alive since `created_at`."""

    session_id: str
    created_at: int


def write_password(
    account: Account,
    new_hash: str,
    caller: Caller,
    now: int,
    event: TransactWriteItemTypeDef,
    code_use: CodeUse | None = None,
) -> None:
    """Set the new hash on the profile and every marker, clear the login protection count
    of the account's name (lockbox.sessions.attempt_records), and end every session but
    the caller's (created before `now`, Unix microseconds): one TransactWriteItems,
    conditional on the password being the one checked and on the caller's session being
    alive (so that an ended session can never spare, and so revive, itself). `event`, the
    change's activity record, is written in it too; `code_use`, a step-up code's use
    (lockbox.mfa.mfa_records.with_code_use), rides on the profile's condition."""
    table = get_settings().users_table
    condition, values = _unchanged_hash(account)
    counted = login_pk(login_name(account))
    in_index = session_records.profile_in_index(account.user_id)
    profile = with_code_use(
        {
            "TableName": table,
            "Key": {"pk": {"S": user_pk(account.user_id)}},
            "UpdateExpression": (
                "SET password_hash = :new_hash, sessions_valid_after = :now,"
                f" spared_session = :sid, {session_records.PROFILE_IN_INDEX}"
            ),
            "ConditionExpression": f"{condition} AND {session_records.SPARES_SESSION}",
            "ExpressionAttributeNames": in_index["ExpressionAttributeNames"],
            "ExpressionAttributeValues": {
                **values,
                **in_index["ExpressionAttributeValues"],
                ":new_hash": {"S": new_hash},
                ":now": {"N": str(now)},
                ":sid": {"S": caller.session_id},
                ":created": {"N": str(caller.created_at)},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
        code_use,
    )
    # Any password change voids every mailed link (after the code's clauses: one SET each).
    profile["UpdateExpression"] += f" REMOVE {LINK_ATTRIBUTES}"
    items: list[TransactWriteItemTypeDef] = [
        {"Update": profile},  # type: ignore[typeddict-item]
        session_records.still_alive(account.user_id, caller.session_id, caller.created_at),
    ]
    items += [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": "SET password_hash = :new_hash"
                + (f" REMOVE {attempt_records.COUNT_ATTRIBUTES}" if pk == counted else ""),
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": {
                    ":new_hash": {"S": new_hash},
                    ":user_id": {"S": account.user_id},
                },
            }
        }
        for pk in account_markers(account)
    ]
    _transact_account([*items, event], account, code_use)


def remove_account(account: Account, code_use: CodeUse | None = None) -> None:
    """Remove the profile and its markers in one TransactWriteItems. Every session ends
    with the profile; the items are purged in the background (lockbox.items.purge).
    `code_use`: a step-up code's use, which the profile's condition checks."""
    table = get_settings().users_table
    condition, values = _unchanged_hash(account)
    profile_delete: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": user_pk(account.user_id)}},
        "ConditionExpression": condition,
    }
    if values:
        profile_delete["ExpressionAttributeValues"] = values
    profile_delete["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    profile_delete = with_code_use(profile_delete, code_use)
    items: list[TransactWriteItemTypeDef] = [{"Delete": profile_delete}]  # type: ignore[typeddict-item]
    items += [
        {
            "Delete": {
                "TableName": table,
                "Key": {"pk": {"S": pk}},
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": {":user_id": {"S": account.user_id}},
            }
        }
        for pk in account_markers(account)
    ]
    _transact_account(items, account, code_use)


def _transact_account(
    items: list[TransactWriteItemTypeDef], account: Account, code_use: CodeUse | None = None
) -> None:
    """One transaction on the account's items (the profile's first); a conflict with a
    concurrent write (a login counted on a marker) is tried again. A failed condition is
    AccountChangedError when the profile holds another password, else AccountGoneError:
    the account was deleted, or the caller's session ended, meanwhile; CodeRefusedError
    when a step-up code (`code_use`) was used meanwhile."""
    try:
        dynamodb.transact_write(items)
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise
        reasons = dynamodb.cancellation_reasons(error) or [{}]
        profile = reasons[0].get("Item") if dynamodb.is_condition_reason(reasons[0]) else None
        if profile and profile.get("password_hash", {}).get("S") != account.password_hash:
            raise AccountChangedError from None
        if profile and code_use and not code_unused(profile, code_use):
            raise CodeRefusedError(second_factor(profile)) from None
        raise AccountGoneError from None


_NAME_PARTS = "firstname, lastname"  # a /users account's name, replaced by a full_name


def update_profile(
    account: Account, changes: dict[str, str | int], event: TransactWriteItemTypeDef
) -> Account:
    """Set the changed fields (full_name, age, gender) on the profile, with `event`, its
    activity record: one TransactWriteItems. A new full_name replaces a /users account's
    firstname and lastname, and is also set on the markers, whose names answer the /users
    login. AccountGoneError when the account was deleted meanwhile. The account as written."""
    table = get_settings().users_table
    names = {f"#{name}": name for name in changes}
    values = {f":{name}": _attribute(value) for name, value in changes.items()}
    update = "SET " + ", ".join(f"#{name} = :{name}" for name in changes)
    renamed = "full_name" in changes
    if renamed:
        update += f" REMOVE {_NAME_PARTS}"
    items: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": user_pk(account.user_id)}},
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    if renamed:
        items += [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": pk}},
                    "UpdateExpression": f"SET full_name = :full_name REMOVE {_NAME_PARTS}",
                    "ConditionExpression": "user_id = :user_id",
                    "ExpressionAttributeValues": {
                        ":full_name": values[":full_name"],
                        ":user_id": {"S": account.user_id},
                    },
                }
            }
            for pk in account_markers(account)
        ]
    try:
        dynamodb.transact_write([*items, event])
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise
        raise AccountGoneError from None
    fields = {**account.fields, **changes}
    if renamed:
        fields = {name: value for name, value in fields.items() if name not in _NAME_PARTS}
    return replace(account, fields=fields)


def put_recheck_marker(user_id: str, expires_at: int) -> None:
    """The deleted account's recheck marker; its TTL removal starts the second purge pass.
    Written again by a purge delivered again: the later expiry only delays that pass."""
    dynamodb.client().put_item(
        TableName=get_settings().users_table,
        Item={
            "pk": {"S": recheck_pk(user_id)},
            "user_id": {"S": user_id},
            "expires_at": {"N": str(expires_at)},
        },
    )
