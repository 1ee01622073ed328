"""Data access for sessions, which live in the users table next to their user's profile.

A session is one item, `SESSION#<sid>`:
- `user_id`, `created_at` (Unix microseconds, never changes);
- `current_hash` / `previous_hash`: SHA-256 of the current refresh token and of the one
  it replaced, `rotated_at` (Unix milliseconds) when that happened, and
  `refresh_expires_at` (Unix seconds) until which the current one may be used;
- `ended` once it was ended (logout, reuse detected);
- `expires_at`: the table's TTL attribute, so dead sessions remove themselves.
Sessions of the /users flavour carry no refresh token hash: they cannot be refreshed.

Ending every session of a user never enumerates them: the profile (`USER#<user_id>`)
holds `sessions_valid_after` (Unix microseconds), and a session created at or before it
is ended, except the one named by `spared_session` (the caller of a password change).
So "log out everywhere", a password change and an account deletion (which removes the
profile) are each one write, and every check of a session reads its item and the
profile in one TransactGetItems.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.accounts.user_keys import session_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.signing.tokens import TOKEN_LIFETIME_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        TransactWriteItemTypeDef,
    )

# Two tabs refreshing with one token at once: the loser is refused, the session lives.
REUSE_GRACE_MILLISECONDS = 10_000
# A session item outlives its last token by this much before TTL removes it, so that a
# rotated token presented late is still recognized (and ends nothing: it is already dead).
_TTL_MARGIN_SECONDS = 86_400


def refresh_hash(secret: str) -> str:
    """Refresh tokens carry 256 random bits: a plain SHA-256 is the right hash for them."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def now_microseconds() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class NewSession:
    session_id: str
    user_id: str
    created_at: int  # Unix microseconds
    refresh_hash: str | None  # None: a /users session, never refreshed


def put_session(session: NewSession) -> TransactWriteItemTypeDef:
    """The Put that starts a session, for the transaction of a login or registration."""
    now = time.time()
    item: dict[str, Any] = {
        "pk": {"S": session_pk(session.session_id)},
        "user_id": {"S": session.user_id},
        "created_at": {"N": str(session.created_at)},
    }
    last_use = now + TOKEN_LIFETIME_SECONDS
    if session.refresh_hash is not None:
        refresh_expires_at = int(now) + get_settings().refresh_token_lifetime
        item["current_hash"] = {"S": session.refresh_hash}
        item["refresh_expires_at"] = {"N": str(refresh_expires_at)}
        last_use = max(last_use, refresh_expires_at)
    item["expires_at"] = {"N": str(int(last_use) + _TTL_MARGIN_SECONDS)}
    return {
        "Put": {
            "TableName": get_settings().users_table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class RefreshRefusedError(Exception):
    """The refresh token is unknown, expired, rotated or its session has ended."""


class ReuseDetectedError(RefreshRefusedError):
    """A rotated refresh token came back after the grace window: the session must end."""


def rotate_session(
    *, user_id: str, session_id: str, created_at: int, presented: str, replacement: str
) -> None:
    """Replace the session's current refresh token hash `presented` by `replacement`.

    One TransactWriteItems: the session's rotation, conditional on `presented` being its
    current hash, on the session not being ended or expired, and (a ConditionCheck) on the
    profile not having ended every session since this one began. Of any number of
    simultaneous rotations with one token exactly one wins. Raises ReuseDetectedError when
    `presented` is the previous hash and was rotated more than the grace window ago,
    RefreshRefusedError for every other refusal.
    """
    settings = get_settings()
    now = time.time()
    refresh_expires_at = int(now) + settings.refresh_token_lifetime
    items: list[TransactWriteItemTypeDef] = [
        {
            "ConditionCheck": {
                "TableName": settings.users_table,
                "Key": {"pk": {"S": user_pk(user_id)}},
                "ConditionExpression": (
                    "attribute_exists(pk) AND (attribute_not_exists(sessions_valid_after)"
                    " OR sessions_valid_after < :created OR spared_session = :sid)"
                ),
                "ExpressionAttributeValues": {
                    ":created": {"N": str(created_at)},
                    ":sid": {"S": session_id},
                },
            }
        },
        {
            "Update": {
                "TableName": settings.users_table,
                "Key": {"pk": {"S": session_pk(session_id)}},
                "UpdateExpression": (
                    "SET previous_hash = current_hash, current_hash = :replacement,"
                    " rotated_at = :now_ms, refresh_expires_at = :refresh_expires_at,"
                    " expires_at = :expires_at"
                ),
                "ConditionExpression": (
                    "user_id = :user_id AND created_at = :created"
                    " AND current_hash = :presented AND attribute_not_exists(ended)"
                    " AND refresh_expires_at > :now"
                ),
                "ExpressionAttributeValues": {
                    ":replacement": {"S": replacement},
                    ":presented": {"S": presented},
                    ":user_id": {"S": user_id},
                    ":created": {"N": str(created_at)},
                    ":now": {"N": str(int(now))},
                    ":now_ms": {"N": str(int(now * 1000))},
                    ":refresh_expires_at": {"N": str(refresh_expires_at)},
                    ":expires_at": {
                        "N": str(
                            max(refresh_expires_at, int(now) + TOKEN_LIFETIME_SECONDS)
                            + _TTL_MARGIN_SECONDS
                        )
                    },
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
    try:
        # One token across attempts: a retry of a committed rotation (its answer lost)
        # succeeds as the first attempt did, so the rotation happens once.
        dynamodb.transact_write(items, token=replacement[:36])
    except ClientError as error:
        reasons = dynamodb.cancellation_reasons(error)
        if reasons is None:
            raise
        codes = [reason.get("Code", "None") for reason in reasons]
        if dynamodb.cancelled_by_condition(error):
            _judge_refusal(reasons, presented, now)
        raise RefreshRefusedError(",".join(codes)) from None


def _judge_refusal(reasons: list[Any], presented: str, now: float) -> None:
    session_reason = reasons[1] if len(reasons) > 1 else {}
    old = session_reason.get("Item") or {}
    if dynamodb.is_condition_reason(session_reason) and old:
        reused = old.get("previous_hash", {}).get("S") == presented
        rotated_at = int(old.get("rotated_at", {}).get("N", "0"))
        if reused and now * 1000 - rotated_at > REUSE_GRACE_MILLISECONDS:
            raise ReuseDetectedError
    raise RefreshRefusedError("ConditionalCheckFailed")


def end_session(session_id: str, user_id: str) -> None:
    """Mark one session ended (one UpdateItem); a session already gone stays gone."""
    try:
        dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key={"pk": {"S": session_pk(session_id)}},
            UpdateExpression="SET ended = :true",
            ConditionExpression="attribute_exists(pk) AND user_id = :user_id",
            ExpressionAttributeValues={":true": {"BOOL": True}, ":user_id": {"S": user_id}},
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise


def end_all_sessions(user_id: str) -> None:
    """End every session of the user (one UpdateItem on the profile, whatever their number)."""
    try:
        dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key={"pk": {"S": user_pk(user_id)}},
            UpdateExpression="SET sessions_valid_after = :now REMOVE spared_session",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": {"N": str(now_microseconds())}},
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise


def session_is_alive(user_id: str, session_id: str) -> bool:
    """Whether the session exists, belongs to the user, has not ended, and the user's
    profile (still there) has not ended it: one TransactGetItems of both items."""
    table = get_settings().users_table
    response = dynamodb.transact_get(
        [
            {
                "Get": {
                    "TableName": table,
                    "Key": {"pk": {"S": session_pk(session_id)}},
                    "ProjectionExpression": "user_id, created_at, ended, expires_at",
                }
            },
            {
                "Get": {
                    "TableName": table,
                    "Key": {"pk": {"S": user_pk(user_id)}},
                    "ProjectionExpression": "pk, sessions_valid_after, spared_session",
                }
            },
        ]
    )
    session, profile = (entry.get("Item") for entry in response["Responses"])
    if not session or not profile:
        return False
    if session.get("user_id", {}).get("S") != user_id or "ended" in session:
        return False
    if int(session.get("expires_at", {}).get("N", "0")) <= time.time():
        return False  # past its TTL, not yet removed
    valid_after = profile.get("sessions_valid_after", {}).get("N")
    if valid_after is None or int(session["created_at"]["N"]) > int(valid_after):
        return True
    return bool(profile.get("spared_session", {}).get("S") == session_id)
