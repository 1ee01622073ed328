"""Data access for mail: the mail requests calls write, and the links the sender keeps on
profiles (lockbox.mail.links).

A mail request is an item `MAIL#<kind>#<subject>` of the users table (lockbox.accounts.
user_keys.mail_pk): written by the call that causes the mail, in that call's own request,
it reaches the sender through the table's stream (template.yaml SendMailFunction), so no
call waits for SES. Its TTL (`expires_at`) removes it once it no longer limits anything.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.accounts.emails import canonical_email
from lockbox.accounts.user_keys import email_pk, mail_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.mail.links import (
    EMAIL_LINK_SECONDS,
    PENDING_EMAIL,
    VERIFY_LINK_SECONDS,
    LinkKind,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class MailKind(StrEnum):
    VERIFY = "verify"  # subject: a user id; the profile's address is mailed a verify link
    RESET = "reset"  # subject: a canonical address; its account, if any, gets a reset link
    EMAIL = "email"  # subject: a user id; the item's new_email is mailed a confirm link
    EMAIL_CHANGED = "email_changed"  # subject: a user id; the item's old_email is told


# SPEC: at most one reset mail per address per 60 s and 5 a day (a UTC day).
RESET_SPACING_SECONDS = 60
RESET_MAILS_PER_DAY = 5
_DAY_SECONDS = 86_400

# The condition a verify link is minted under: the account exists and is not verified yet.
NOT_VERIFIED = "attribute_not_exists(email_verified) OR email_verified = :false"


def request_verification(user_id: str) -> TransactWriteItemTypeDef:
    """The Put of a verification mail request, for the transaction that asks for it
    (a registration's, or verify/send's own). A new request_id makes each one a change
    that the stream delivers, even over an earlier request still kept."""
    item = _request_item(MailKind.VERIFY, user_id, VERIFY_LINK_SECONDS)
    return {"Put": {"TableName": get_settings().users_table, "Item": item}}


def request_email_change(user_id: str, new_email: str) -> TransactWriteItemTypeDef:
    """The Put of an address change's mail request (the new address, to be mailed a
    confirm link), for POST /api/email's transaction. A later request replaces it: only
    the newest change's link is minted last, and only the newest link works."""
    item = _request_item(MailKind.EMAIL, user_id, EMAIL_LINK_SECONDS)
    item["new_email"] = {"S": new_email}
    return {"Put": {"TableName": get_settings().users_table, "Item": item}}


def email_changed_notice(
    user_id: str, old_email: str, names: dict[str, Any]
) -> TransactWriteItemTypeDef:
    """The Put of the notice to the address an account just left, for the transaction
    that changes it (the old address is told, SPEC "Account details"); `names`, the
    profile's name attributes, greet its reader."""
    item = {**names, **_request_item(MailKind.EMAIL_CHANGED, user_id, _DAY_SECONDS)}
    item["old_email"] = {"S": old_email}
    return {"Put": {"TableName": get_settings().users_table, "Item": item}}


def _request_item(kind: MailKind, user_id: str, keep_seconds: int) -> dict[str, Any]:
    now = time.time()
    return {
        "pk": {"S": mail_pk(kind, user_id)},
        "user_id": {"S": user_id},
        "request_id": {"S": str(uuid.uuid4())},
        "requested_at": {"N": str(int(now * 1000))},
        "expires_at": {"N": str(int(now) + keep_seconds)},
    }


def read_request(kind: MailKind, subject: str) -> dict[str, Any] | None:
    """A mail request as written (the stream gives its key only), or None once gone."""
    response = dynamodb.client().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": mail_pk(kind, subject)}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def open_link(
    user_id: str,
    kind: LinkKind,
    token_hash: str,
    expires_at: int,
    condition: str = "attribute_exists(pk)",
    values: dict[str, Any] | None = None,
    pending_email: str | None = None,
) -> dict[str, Any] | None:
    """Keep a new link's hash on the profile, replacing the kind's older one (only the
    newest works), if the profile exists and meets `condition`; the profile as written,
    or None (no mail then). One UpdateItem. `pending_email`: the address an email link
    confirms, kept with its hash."""
    update = "SET #hash = :hash, #expires = :expires"
    extra: dict[str, Any] = {}
    if pending_email is not None:
        update += f", {PENDING_EMAIL} = :pending"
        extra[":pending"] = {"S": pending_email}
    try:
        response = dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key={"pk": {"S": user_pk(user_id)}},
            UpdateExpression=update,
            ConditionExpression=f"attribute_exists(pk) AND ({condition})",
            ExpressionAttributeNames={
                "#hash": kind.hash_attribute,
                "#expires": kind.expiry_attribute,
            },
            ExpressionAttributeValues={
                ":hash": {"S": token_hash},
                ":expires": {"N": str(expires_at)},
                **(values or {}),
                **extra,
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if dynamodb.condition_failed(error):
            return None
        raise
    return response["Attributes"]


def request_reset(email: str) -> bool:
    """Ask for a reset mail to the address, whether or not an account has it (the sender
    looks, after the call has answered): one conditional UpdateItem of
    `MAIL#reset#<canonical address>`, which is also the address's rate limit. False when
    the limit holds it back (nothing written, no mail).

    The day's count is an attribute named after the UTC day (`sent_<day>`), so a new day
    starts from zero without a read; yesterday's is removed in the same write.
    """
    now = time.time()
    day = int(now // _DAY_SECONDS)
    try:
        dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key={"pk": {"S": mail_pk(MailKind.RESET, canonical_email(email))}},
            UpdateExpression=(
                "SET last_at = :now, request_id = :request, expires_at = :expires,"
                " #today = if_not_exists(#today, :zero) + :one REMOVE #yesterday"
            ),
            ConditionExpression=(
                "attribute_not_exists(pk) OR (last_at <= :spaced"
                " AND (attribute_not_exists(#today) OR #today < :most))"
            ),
            ExpressionAttributeNames={"#today": f"sent_{day}", "#yesterday": f"sent_{day - 1}"},
            ExpressionAttributeValues={
                ":now": {"N": str(int(now * 1000))},
                ":request": {"S": str(uuid.uuid4())},
                ":expires": {"N": str(int(now) + 2 * _DAY_SECONDS)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":spaced": {"N": str(int((now - RESET_SPACING_SECONDS) * 1000))},
                ":most": {"N": str(RESET_MAILS_PER_DAY)},
            },
        )
    except ClientError as error:
        if dynamodb.condition_failed(error):
            return False
        raise
    return True


def read_address_owner(address: str) -> dict[str, Any] | None:
    """The email marker of a canonical address, if an account has it (one GetItem)."""
    response = dynamodb.client().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": email_pk(address)}},
        ProjectionExpression="user_id, email, full_name, firstname",
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = response.get("Item")
    return item if item and "user_id" in item else None


def open_reset_link(
    user_id: str, token_hash: str, expires_at: int, event: TransactWriteItemTypeDef
) -> bool:
    """Keep a reset link's hash on the profile (replacing the older one) and record the
    request in the activity log: one TransactWriteItems; False if the account is gone."""
    kind = LinkKind.RESET
    update: dict[str, Any] = {
        "TableName": get_settings().users_table,
        "Key": {"pk": {"S": user_pk(user_id)}},
        "UpdateExpression": "SET #hash = :hash, #expires = :expires",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": {
            "#hash": kind.hash_attribute,
            "#expires": kind.expiry_attribute,
        },
        "ExpressionAttributeValues": {
            ":hash": {"S": token_hash},
            ":expires": {"N": str(expires_at)},
        },
    }
    try:
        dynamodb.transact_write([{"Update": update}, event])  # type: ignore[typeddict-item]
    except ClientError as error:
        if dynamodb.cancelled_by_condition(error):
            return False
        raise
    return True
