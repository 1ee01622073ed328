"""Data access for the email calls: the profile with its links (lockbox.mail.links), and
the writes that use a link.

A verified address is `email_verified` (BOOL true) on the profile and on every marker,
since a login reads only its name's marker (RequireVerifiedEmail). Using a link removes
its hash in the same transaction, conditional on the hash still being the one checked:
a link works once, and only while it is the newest of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.accounts import account_records
from lockbox.accounts.user_keys import user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.mail import mail_records
from lockbox.mail.links import LINK_ATTRIBUTES, LinkKind, same_hash, token_hash
from lockbox.sessions import session_records
from lockbox.sessions.attempt_records import COUNT_ATTRIBUTES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class LinkUsedError(Exception):
    """The link was used or replaced meanwhile, or its account is gone: nothing written."""


@dataclass(frozen=True, slots=True)
class LinkHolder:
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
