"""Data access for the email calls: the profile with its links (lockbox.mail.links), and
the writes that use a link.

A verified address is `email_verified` (BOOL true) on the profile and on every marker,
since a login reads only its name's marker (RequireVerifiedEmail). Using a link removes
its hash in the same transaction, conditional on the hash still being the one checked:
a link works once, and only while it is the newest of its kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from lockbox.accounts import account_records
from lockbox.accounts.user_keys import email_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.mail import mail_records
from lockbox.mail.links import LINK_ATTRIBUTES, PENDING_EMAIL, LinkKind, same_hash, token_hash
from lockbox.mfa import mfa_state
from lockbox.sessions import session_records
from lockbox.sessions.attempt_records import COUNT_ATTRIBUTES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class LinkUsedError(Exception):
    """The link was used or replaced meanwhile, or its account is gone: nothing written."""


class LinkHolder(NamedTuple):
    """A profile as the link calls read it: the account and its links' hashes."""

    account: account_records.Account
    item: dict[str, Any]

    def holds(self, kind: LinkKind, token: str, now: int) -> bool:
        """The token is the kind's newest link of this account, and still valid."""
        stored = self.item.get(kind.hash_attribute, {}).get("S")
        expires_at = int(self.item.get(kind.expiry_attribute, {}).get("N", "0"))
        return stored is not None and now < expires_at and same_hash(stored, token)


def read_link_holder(user_id: str) -> LinkHolder | None:
    """The profile a link names (one GetItem), or None."""
    response = dynamodb.client().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": user_pk(user_id)}},
        ConsistentRead=True,  # a link used at once after another
    )
    item = response.get("Item")
    if item is None:
        return None
    return LinkHolder(account_records.account_of_item(user_id, item), item)


def use_link(kind: LinkKind, token: str, account: account_records.Account) -> dict[str, Any]:
    """The profile's part of a transaction that uses a link: remove the link's hash,
    conditional on it being this token's (single use, newest only)."""
    return {
        "TableName": get_settings().users_table,
        "Key": {"pk": {"S": user_pk(account.user_id)}},
        "UpdateExpression": "REMOVE #hash, #expires",
        "ConditionExpression": "#hash = :hash",
        "ExpressionAttributeNames": {
            "#hash": kind.hash_attribute,
            "#expires": kind.expiry_attribute,
        },
        "ExpressionAttributeValues": {":hash": {"S": token_hash(token)}},
    }


def mark_markers_verified(account: account_records.Account) -> list[TransactWriteItemTypeDef]:
    return [
        {
            "Update": {
                "TableName": get_settings().users_table,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": "SET email_verified = :true",
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": {
                    ":true": {"BOOL": True},
                    ":user_id": {"S": account.user_id},
                },
            }
        }
        for pk in account_records.account_markers(account)
    ]


def verify_email(holder: LinkHolder, token: str, event: TransactWriteItemTypeDef) -> None:
    """Use a verify link: the address is verified on the profile and every marker, the
    link removed, `event` recorded; one TransactWriteItems. LinkUsedError if the link was
    used or replaced meanwhile."""
    profile = use_link(LinkKind.VERIFY, token, holder.account)
    profile["UpdateExpression"] = "SET email_verified = :true " + profile["UpdateExpression"]
    profile["ExpressionAttributeValues"][":true"] = {"BOOL": True}
    _transact_link(
        [{"Update": profile}, *mark_markers_verified(holder.account), event]  # type: ignore[typeddict-item]
    )


def request_verification_mail(user_id: str) -> bool:
    """Ask for a new verification mail, unless the address is verified (False then): the
    mail request's Put, conditional on the profile, in one TransactWriteItems."""
    check: TransactWriteItemTypeDef = {
        "ConditionCheck": {
            "TableName": get_settings().users_table,
            "Key": {"pk": {"S": user_pk(user_id)}},
            "ConditionExpression": f"attribute_exists(pk) AND ({mail_records.NOT_VERIFIED})",
            "ExpressionAttributeValues": {":false": {"BOOL": False}},
        }
    }
    try:
        dynamodb.transact_write([check, mail_records.request_verification(user_id)])
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise
        return False
    return True


def _transact_link(items: list[TransactWriteItemTypeDef]) -> None:
    try:
        dynamodb.transact_write(items)
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise
        raise LinkUsedError from None


def reset_password(
    holder: LinkHolder,
    token: str,
    new_hash: str,
    sessions_end_before: int,
    written_with: list[TransactWriteItemTypeDef],
) -> None:
    """Use a reset link: the new hash on the profile and every marker, every session that
    began before `sessions_end_before` (Unix microseconds) ended, the login protection
    count of both names cleared (what attempt_records.clear_count removes, here in the
    same request), the address verified and every link voided; `written_with` (the new
    session, the activity event) in the same TransactWriteItems. LinkUsedError if the
    link was used or replaced meanwhile."""
    account = holder.account
    in_index = session_records.profile_in_index(account.user_id)
    kind = LinkKind.RESET
    profile: dict[str, Any] = {
        "TableName": get_settings().users_table,
        "Key": {"pk": {"S": user_pk(account.user_id)}},
        "UpdateExpression": (
            "SET password_hash = :new_hash, sessions_valid_after = :ended,"
            f" email_verified = :true, {session_records.PROFILE_IN_INDEX}"
            f" REMOVE spared_session, {LINK_ATTRIBUTES}"
        ),
        "ConditionExpression": f"{kind.hash_attribute} = :hash",
        "ExpressionAttributeNames": in_index["ExpressionAttributeNames"],
        "ExpressionAttributeValues": {
            **in_index["ExpressionAttributeValues"],
            ":new_hash": {"S": new_hash},
            ":ended": {"N": str(sessions_end_before)},
            ":true": {"BOOL": True},
            ":hash": {"S": token_hash(token)},
        },
    }
    markers: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": get_settings().users_table,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": (
                    f"SET password_hash = :new_hash, email_verified = :true REMOVE {COUNT_ATTRIBUTES}"
                ),
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": {
                    ":new_hash": {"S": new_hash},
                    ":true": {"BOOL": True},
                    ":user_id": {"S": account.user_id},
                },
            }
        }
        for pk in account_records.account_markers(account)
    ]
    _transact_link([{"Update": profile}, *markers, *written_with])  # type: ignore[typeddict-item]


class EmailTakenError(Exception):
    """Another account has the new address: nothing written."""


def request_email_change(
    account: account_records.Account,
    new_email: str,
    alive: TransactWriteItemTypeDef,
    count_reset: TransactWriteItemTypeDef,
) -> None:
    """Ask for a confirm link to `new_email` (POST /api/email): the mail request's Put,
    conditional on no account having the address, with `alive` (the caller's session
    still alive) and `count_reset` (the right password clears the name's count), in one
    TransactWriteItems. EmailTakenError if the address is taken; AccountGoneError if the
    account or the session ended meanwhile."""
    items: list[TransactWriteItemTypeDef] = [
        alive,
        count_reset,
        {
            "ConditionCheck": {
                "TableName": get_settings().users_table,
                "Key": {"pk": {"S": email_pk(new_email)}},
                # A marker may hold a login attempt count for the name, but no account.
                "ConditionExpression": "attribute_not_exists(user_id)",
            }
        },
        mail_records.request_email_change(account.user_id, new_email),
    ]
    try:
        dynamodb.transact_write(items)
    except ClientError as error:
        reasons = dynamodb.cancellation_codes(error)
        if reasons is None or dynamodb.CONDITION_FAILED not in reasons:
            raise
        if dynamodb.CONDITION_FAILED in reasons[:2]:
            raise account_records.AccountGoneError from None
        raise EmailTakenError from None


def pending_email(holder: LinkHolder) -> str | None:
    """The address the holder's email link confirms."""
    address: str | None = holder.item.get(PENDING_EMAIL, {}).get("S")
    return address


def _new_email_marker(holder: LinkHolder, new_email: str) -> dict[str, Any]:
    """The new address's marker, a copy of what the profile keeps for logins (lockbox.
    accounts.account_records.put_user, the factor's copies of lockbox.mfa.mfa_state)."""
    profile = holder.item
    copied = (
        "user_id",
        "password_hash",
        "created_at",
        *account_records.MARKER_PROFILE_FIELDS,
        mfa_state.SECRET,
        mfa_state.SECRET_KEY,
        mfa_state.RECOVERY_CODES,
    )
    return {
        "pk": {"S": email_pk(new_email)},
        **{name: profile[name] for name in copied if name in profile},
        "email": {"S": new_email},
        "email_verified": {"BOOL": True},
    }


def _profile_unchanged(profile: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The condition that what the new marker copies from the profile is still so."""
    clauses, values = [], {}
    for name in ("password_hash", mfa_state.SECRET, mfa_state.RECOVERY_CODES):
        if name in profile:
            clauses.append(f"{name} = :was_{name}")
            values[f":was_{name}"] = profile[name]
        else:
            clauses.append(f"attribute_not_exists({name})")
    return " AND ".join(clauses), values


class ProfileChangedError(Exception):
    """The profile changed since it was read (not its link): read it and try again."""


def change_email(
    holder: LinkHolder,
    token: str,
    new_email: str,
    written_with: list[TransactWriteItemTypeDef],
) -> None:
    """Use an email link: the profile takes the new address (verified), the old address's
    marker is deleted and the new one's written (so the old address is free at once), the
    username's marker names the new address, every open verify link is voided, the old
    address is sent a notice; `written_with` (the activity event) in the same
    TransactWriteItems. LinkUsedError if the link was used or replaced meanwhile,
    EmailTakenError if another account has the address, ProfileChangedError if the
    password or factor changed since the profile was read."""
    account = holder.account
    table = get_settings().users_table
    kind = LinkKind.EMAIL
    unchanged, values = _profile_unchanged(holder.item)
    profile: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": user_pk(account.user_id)}},
        "UpdateExpression": (
            "SET email = :new_email, email_verified = :true"
            f" REMOVE {kind.hash_attribute}, {kind.expiry_attribute}, {PENDING_EMAIL},"
            f" {LinkKind.VERIFY.hash_attribute}, {LinkKind.VERIFY.expiry_attribute}"
        ),
        "ConditionExpression": f"{kind.hash_attribute} = :hash AND email = :old_email AND {unchanged}",
        "ExpressionAttributeValues": {
            **values,
            ":new_email": {"S": new_email},
            ":old_email": {"S": account.email},
            ":true": {"BOOL": True},
            ":hash": {"S": token_hash(token)},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    owned = {":user_id": {"S": account.user_id}}
    items: list[TransactWriteItemTypeDef] = [
        {"Update": profile},  # type: ignore[typeddict-item]
        {
            "Put": {
                "TableName": table,
                "Item": _new_email_marker(holder, new_email),
                "ConditionExpression": "attribute_not_exists(user_id)",
            }
        },
        {
            "Delete": {
                "TableName": table,
                "Key": {"pk": {"S": email_pk(account.email)}},
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": owned,
            }
        },
    ]
    items += [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": "SET email = :new_email, email_verified = :true",
                "ConditionExpression": "user_id = :user_id",
                "ExpressionAttributeValues": {
                    **owned,
                    ":new_email": {"S": new_email},
                    ":true": {"BOOL": True},
                },
            }
        }
        for pk in account_records.account_markers(account)
        if pk != email_pk(account.email)
    ]
    names: dict[str, Any] = {
        name: holder.item[name]
        for name in ("full_name", "firstname", "username")
        if name in holder.item
    }
    items.append(mail_records.email_changed_notice(account.user_id, account.email, names))
    try:
        dynamodb.transact_write([*items, *written_with])
    except ClientError as error:
        reasons = dynamodb.cancellation_reasons(error)
        if reasons is None or not dynamodb.cancelled_by_condition(error):
            raise
        if dynamodb.is_condition_reason(reasons[0]):
            stored = reasons[0].get("Item") or {}
            if stored.get(kind.hash_attribute, {}).get("S") == token_hash(token):
                raise ProfileChangedError from None
            raise LinkUsedError from None
        if dynamodb.is_condition_reason(reasons[1]):
            raise EmailTakenError from None
        raise LinkUsedError from None  # the account's markers went with the account
