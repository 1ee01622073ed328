"""Data access for sessions, which live in the users table next to their user's profile.

A session is one item, `SESSION#<sid>`:
- `user_id`, `created_at` (Unix microseconds, never changes);
- `current_hash` / `previous_hash`: SHA-256 of the current refresh token's secret and of
  the one it replaced, `rotated_at` (Unix milliseconds) when that happened, and
  `refresh_expires_at` (Unix seconds) until which the current one may be used;
- `chain_hash`: SHA-256 of the session's chain secret, which every refresh token of the
  session carries, and `generation`, the number of rotations so far, which each token
  carries too. A token of an earlier generation with the session's chain secret was
  issued by this session and has been rotated, however long ago: it ends the session.
  Someone who never held a token of the session cannot know its chain secret, so a
  made-up token never ends a session, and no hash of any earlier token is kept;
- `ended` once it was ended (logout, reuse detected, ended from another device);
- `owner` (the user id) and `ordered_at` (= `created_at`): the keys of the sparse index
  `ByOwner`, which lists a user's sessions newest first in one Query; `user_agent`
  (the login's User-Agent, if any) and `last_used_at` (Unix microseconds: the login, then
  each refresh) for that list;
- `expires_at`: the table's TTL attribute, so dead sessions remove themselves.
A session ends `SessionMaxLifetime` seconds after its `created_at` however often it is
refreshed: the end is computed from `created_at`, which every token of it carries, so a
refresh past it is refused without a request and no refresh token outlives it.
Sessions of the /users flavour carry no refresh token hash: they cannot be refreshed.

Ending every session of a user never enumerates them: the profile (`USER#<user_id>`)
holds `sessions_valid_after` (Unix microseconds), and a session created at or before it
is ended, except the one named by `spared_session` (the caller of a password change).
So "log out everywhere", a password change and an account deletion (which removes the
profile) are each one write, and every check of a session reads its item and the
profile in one BatchGetItem. A profile that has ended sessions this way is in the
index too, above every session (`owner`, `ordered_at` = PROFILE_PLACE), so the listing's
one Query reads it first and applies its `sessions_valid_after`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from lockbox.accounts.user_keys import OWNER_INDEX, SESSION, session_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.signing.lifetimes import TOKEN_LIFETIME_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        TransactWriteItemTypeDef,
    )

# Two tabs refreshing with one token at once: the loser is refused, the session lives.
REUSE_GRACE_MILLISECONDS = 10_000
# The profile's condition that it has not ended the session `:sid` created at `:created`.
SPARES_SESSION = (
    "(attribute_not_exists(sessions_valid_after) OR sessions_valid_after < :created"
    " OR spared_session = :sid)"
)
# A profile's `ordered_at` in the index: above any session's (Unix microseconds, year 2286).
PROFILE_PLACE = 9_999_999_999_999_999
# The SET clause that puts a profile in the index, with its values (:owner, :profile_place).
PROFILE_IN_INDEX = "#owner = :owner, ordered_at = :profile_place"
# A session item outlives its last token by this much before TTL removes it, so that a
# rotated token presented late is still recognized (and ends nothing: it is already dead).
_TTL_MARGIN_SECONDS = 86_400


def refresh_hash(secret: str) -> str:
    """Refresh tokens carry 256 random bits: a plain SHA-256 is the right hash for them."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def now_microseconds() -> int:
    return time.time_ns() // 1000


def session_end(created_at: int) -> float:
    """When the session begun at `created_at` (Unix microseconds) ends, in Unix seconds."""
    return created_at / 1_000_000 + get_settings().session_max_lifetime


def refresh_seconds(created_at: int, now: float) -> int:
    """How long a refresh token issued `now` stays valid: the idle limit, or the whole
    seconds left before the session's end if fewer (0: the session has ended)."""
    left = int(session_end(created_at) - now)
    return max(0, min(get_settings().refresh_token_lifetime, left))


def _ttl(created_at: int, last_use: float) -> int:
    """The item's TTL: its last possible use, never past the session's end, plus the margin."""
    return int(min(last_use, session_end(created_at))) + _TTL_MARGIN_SECONDS


class NewSession(NamedTuple):
    session_id: str
    user_id: str
    created_at: int  # Unix microseconds
    refresh_hash: str | None  # None: a /users session, never refreshed
    chain_hash: str | None = None  # with refresh_hash: the hash of its chain secret
    user_agent: str | None = None  # the login's User-Agent header


def profile_in_index(user_id: str) -> dict[str, Any]:
    """The names and values of PROFILE_IN_INDEX, for an update that ends sessions."""
    return {
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {
            ":owner": {"S": user_id},
            ":profile_place": {"N": str(PROFILE_PLACE)},
        },
    }


def put_session(session: NewSession) -> TransactWriteItemTypeDef:
    """The Put that starts a session, for the transaction of a login or registration."""
    now = time.time()
    item: dict[str, Any] = {
        "pk": {"S": session_pk(session.session_id)},
        "user_id": {"S": session.user_id},
        "created_at": {"N": str(session.created_at)},
        "owner": {"S": session.user_id},
        "ordered_at": {"N": str(session.created_at)},
        "last_used_at": {"N": str(session.created_at)},
    }
    if session.user_agent is not None:
        item["user_agent"] = {"S": session.user_agent}
    last_use = now + TOKEN_LIFETIME_SECONDS
    if session.refresh_hash is not None:
        refresh_expires_at = int(now) + refresh_seconds(session.created_at, now)
        item["current_hash"] = {"S": session.refresh_hash}
        if session.chain_hash is not None:
            item["chain_hash"] = {"S": session.chain_hash}
            item["generation"] = {"N": "0"}
        item["refresh_expires_at"] = {"N": str(refresh_expires_at)}
        last_use = max(last_use, refresh_expires_at)
    item["expires_at"] = {"N": str(_ttl(session.created_at, last_use))}
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


class PresentedToken(NamedTuple):
    """What a refresh token names and proves, hashed: its session, and its place in the
    session's chain (`generation` and `chain_hash` are None for a token of the format
    before chains, which carries neither)."""

    user_id: str
    session_id: str
    created_at: int
    secret_hash: str
    generation: int | None
    chain_hash: str | None


def rotate_session(presented: PresentedToken, *, replacement: str, chain_hash: str) -> None:
    """Replace the session's current refresh token hash by `replacement`, the hash of the
    secret of generation `presented.generation + 1`, whose chain secret hashes to
    `chain_hash` (the presented one's; a fresh one for a token of the format before chains).

    One TransactWriteItems: the session's rotation, conditional on the presented token
    being its current one (secret, chain and generation), on the session not being ended
    or expired, and (a ConditionCheck) on the profile not having ended every session since
    this one began. Of any number of simultaneous rotations with one token exactly one
    wins. Raises ReuseDetectedError when the presented token was rotated (any earlier
    generation of the chain, except the last one within the grace window),
    RefreshRefusedError for every other refusal.
    """
    user_id, session_id, created_at = (
        presented.user_id,
        presented.session_id,
        presented.created_at,
    )
    if presented.generation is None:  # the format before chains: the chain starts now
        chain_condition, chain_values = "attribute_not_exists(chain_hash)", {}
        next_generation = 1
    else:
        chain_condition = "chain_hash = :chain AND generation = :generation"
        chain_values = {
            ":chain": {"S": chain_hash},
            ":generation": {"N": str(presented.generation)},
        }
        next_generation = presented.generation + 1
    settings = get_settings()
    now = time.time()
    seconds = refresh_seconds(created_at, now)
    if seconds <= 0:  # past the session's end: no request needed to refuse it
        raise RefreshRefusedError("SessionMaxLifetime")
    refresh_expires_at = int(now) + seconds
    items: list[TransactWriteItemTypeDef] = [
        {
            "ConditionCheck": {
                "TableName": settings.users_table,
                "Key": {"pk": {"S": user_pk(user_id)}},
                "ConditionExpression": f"attribute_exists(pk) AND {SPARES_SESSION}",
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
                    " expires_at = :expires_at, chain_hash = :next_chain,"
                    " generation = :next_generation, last_used_at = :now_us"
                ),
                "ConditionExpression": (
                    "user_id = :user_id AND created_at = :created"
                    " AND current_hash = :presented AND attribute_not_exists(ended)"
                    f" AND refresh_expires_at > :now AND {chain_condition}"
                ),
                "ExpressionAttributeValues": {
                    **chain_values,
                    ":next_chain": {"S": chain_hash},
                    ":next_generation": {"N": str(next_generation)},
                    ":replacement": {"S": replacement},
                    ":presented": {"S": presented.secret_hash},
                    ":user_id": {"S": user_id},
                    ":created": {"N": str(created_at)},
                    ":now": {"N": str(int(now))},
                    ":now_ms": {"N": str(int(now * 1000))},
                    ":now_us": {"N": str(int(now * 1_000_000))},
                    ":refresh_expires_at": {"N": str(refresh_expires_at)},
                    ":expires_at": {
                        "N": str(
                            _ttl(
                                created_at,
                                max(refresh_expires_at, int(now) + TOKEN_LIFETIME_SECONDS),
                            )
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


def _judge_refusal(reasons: list[Any], presented: PresentedToken, now: float) -> None:
    """A refused rotation: was the token presented one this session issued and rotated?

    The session's item as it was (ALL_OLD) says. A token of an earlier generation with the
    session's chain secret was rotated: it ends the session, unless it is the one rotated
    last (its secret is the previous hash) and came within the grace window. A token of
    the format before chains is judged by the previous hash alone.
    """
    session_reason = reasons[1] if len(reasons) > 1 else {}
    old = session_reason.get("Item") or {}
    if not (dynamodb.is_condition_reason(session_reason) and old):
        raise RefreshRefusedError("ConditionalCheckFailed")
    last_rotated = old.get("previous_hash", {}).get("S") == presented.secret_hash
    rotated_at = int(old.get("rotated_at", {}).get("N", "0"))
    within_grace = now * 1000 - rotated_at <= REUSE_GRACE_MILLISECONDS
    if presented.generation is None:
        if last_rotated and not within_grace:
            raise ReuseDetectedError
        raise RefreshRefusedError("ConditionalCheckFailed")
    stored_chain = old.get("chain_hash", {}).get("S")
    if stored_chain is None or not hmac.compare_digest(stored_chain, presented.chain_hash or ""):
        raise RefreshRefusedError("ConditionalCheckFailed")  # not a token of this session
    generation = int(old.get("generation", {}).get("N", "0"))
    if presented.generation >= generation:
        raise RefreshRefusedError("ConditionalCheckFailed")  # not rotated (or never issued)
    if presented.generation == generation - 1 and last_rotated and within_grace:
        raise RefreshRefusedError("ConditionalCheckFailed")  # two tabs racing
    raise ReuseDetectedError


def end_session(session_id: str, user_id: str, event: TransactWriteItemTypeDef) -> None:
    """Mark one session ended and record `event` (one TransactWriteItems); a session
    already gone stays gone, and nothing is recorded."""
    try:
        dynamodb.transact_write(
            [
                {
                    "Update": {
                        "TableName": get_settings().users_table,
                        "Key": {"pk": {"S": session_pk(session_id)}},
                        "UpdateExpression": "SET ended = :true",
                        "ConditionExpression": "attribute_exists(pk) AND user_id = :user_id",
                        "ExpressionAttributeValues": {
                            ":true": {"BOOL": True},
                            ":user_id": {"S": user_id},
                        },
                    }
                },
                event,
            ]
        )
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise


def end_all_sessions(user_id: str, event: TransactWriteItemTypeDef) -> None:
    """End every session of the user (one update of the profile, whatever their number)
    and record `event`, in one TransactWriteItems; a deleted user gets neither."""
    in_index = profile_in_index(user_id)
    try:
        dynamodb.transact_write(
            [
                {
                    "Update": {
                        "TableName": get_settings().users_table,
                        "Key": {"pk": {"S": user_pk(user_id)}},
                        "UpdateExpression": (
                            f"SET sessions_valid_after = :now, {PROFILE_IN_INDEX}"
                            " REMOVE spared_session"
                        ),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": in_index["ExpressionAttributeNames"],
                        "ExpressionAttributeValues": {
                            ":now": {"N": str(now_microseconds())},
                            **in_index["ExpressionAttributeValues"],
                        },
                    }
                },
                event,
            ]
        )
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise


# What a check of a session reads of its item and of its user's profile, in one BatchGetItem
# (one projection for both items).
SESSION_CHECK_PROJECTION = (
    "pk, user_id, created_at, ended, expires_at, sessions_valid_after, spared_session"
)


def alive_since(
    session: dict[str, Any] | None,
    profile: dict[str, Any] | None,
    user_id: str,
    session_id: str,
) -> int | None:
    """The session's `created_at` if it is alive (read with its user's profile, which
    must still be there and must not have ended it), None if it is not."""
    if not session or not profile:
        return None
    if session.get("user_id", {}).get("S") != user_id or "ended" in session:
        return None
    if int(session.get("expires_at", {}).get("N", "0")) <= time.time():
        return None  # past its TTL, not yet removed
    created_at = int(session["created_at"]["N"])
    if session_end(created_at) <= time.time():
        return None  # past SessionMaxLifetime, however often refreshed
    valid_after = profile.get("sessions_valid_after", {}).get("N")
    if valid_after is None or created_at > int(valid_after):
        return created_at
    spared = profile.get("spared_session", {}).get("S") == session_id
    return created_at if spared else None


def session_is_alive(user_id: str, session_id: str) -> bool:
    """Whether the session exists, belongs to the user, has not ended, and the user's
    profile (still there) has not ended it: one BatchGetItem of both items. Each is read as
    of its own read; any end of the session changes one item, so the answer is the truth
    as of one of the two reads."""
    session, profile = dynamodb.get_items(
        get_settings().users_table,
        [{"pk": {"S": session_pk(session_id)}}, {"pk": {"S": user_pk(user_id)}}],
        SESSION_CHECK_PROJECTION,
    )
    return alive_since(session, profile, user_id, session_id) is not None


def still_alive(user_id: str, session_id: str, created_at: int) -> TransactWriteItemTypeDef:
    """A ConditionCheck, for a transaction of the session's own call, that the session has
    not ended since it was read (the profile's side is the write's own condition:
    `spares_session`)."""
    return {
        "ConditionCheck": {
            "TableName": get_settings().users_table,
            "Key": {"pk": {"S": session_pk(session_id)}},
            "ConditionExpression": (
                "user_id = :user_id AND created_at = :created AND attribute_not_exists(ended)"
            ),
            "ExpressionAttributeValues": {
                ":user_id": {"S": user_id},
                ":created": {"N": str(created_at)},
            },
        }
    }


class DeviceSession(NamedTuple):
    """A live session as the user's list of them shows it."""

    session_id: str
    created_at: int  # Unix microseconds
    last_used_at: int  # Unix microseconds
    user_agent: str | None


def _oldest_live(now: float) -> int:
    """The `created_at` (Unix microseconds) at or before which a session is past its end."""
    return int((now - get_settings().session_max_lifetime) * 1_000_000)


def read_sessions(user_id: str) -> list[DeviceSession]:
    """The user's live sessions, newest first: one Query of the index (the profile first,
    if it has ended sessions), its first page (1 MB: thousands of sessions)."""
    now = time.time()
    response = dynamodb.client().query(
        TableName=get_settings().users_table,
        IndexName=OWNER_INDEX,
        KeyConditionExpression="#owner = :owner AND ordered_at > :oldest",
        FilterExpression="attribute_not_exists(ended)",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={
            ":owner": {"S": user_id},
            ":oldest": {"N": str(_oldest_live(now))},
        },
        ScanIndexForward=False,
    )
    items = response.get("Items", [])
    profile_key = user_pk(user_id)
    profile = next((item for item in items if item["pk"]["S"] == profile_key), None)
    sessions: list[DeviceSession] = []
    for item in items:
        session_id = item["pk"]["S"].removeprefix(SESSION)
        if item is profile or not item["pk"]["S"].startswith(SESSION):
            continue
        if alive_since(item, profile or {"pk": {"S": profile_key}}, user_id, session_id) is None:
            continue
        created_at = int(item["created_at"]["N"])
        sessions.append(
            DeviceSession(
                session_id=session_id,
                created_at=created_at,
                last_used_at=int(item.get("last_used_at", {}).get("N", created_at)),
                user_agent=item.get("user_agent", {}).get("S"),
            )
        )
    return sessions


def end_live_session(user_id: str, session_id: str, event: TransactWriteItemTypeDef) -> bool:
    """End a live session of the user (from any of their sessions); False when it is not
    one (another user's, unknown, ended, past its end).

    One TransactWriteItems: the session's `ended`, conditional on it being the user's and
    alive, a ConditionCheck that the profile has never ended sessions wholesale (or
    spared this one), and `event`, the activity record. Only when it has, a second
    request: the same write and record, conditional on the session being newer than the
    profile's `sessions_valid_after`, which the refusal returned.
    """
    settings = get_settings()
    now = time.time()
    values: dict[str, Any] = {
        ":true": {"BOOL": True},
        ":user_id": {"S": user_id},
        ":now": {"N": str(int(now))},
        ":oldest": {"N": str(_oldest_live(now))},
    }
    end: dict[str, Any] = {
        "TableName": settings.users_table,
        "Key": {"pk": {"S": session_pk(session_id)}},
        "UpdateExpression": "SET ended = :true",
        "ConditionExpression": (
            "user_id = :user_id AND attribute_not_exists(ended)"
            " AND expires_at > :now AND created_at > :oldest"
        ),
        "ExpressionAttributeValues": values,
    }
    try:
        dynamodb.transact_write(
            [
                {
                    "ConditionCheck": {
                        "TableName": settings.users_table,
                        "Key": {"pk": {"S": user_pk(user_id)}},
                        "ConditionExpression": (
                            "attribute_exists(pk) AND (attribute_not_exists(sessions_valid_after)"
                            " OR spared_session = :sid)"
                        ),
                        "ExpressionAttributeValues": {":sid": {"S": session_id}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Update": end},  # type: ignore[typeddict-item]
                event,
            ]
        )
        return True
    except ClientError as error:
        reasons = dynamodb.cancellation_reasons(error)
        if reasons is None or not dynamodb.cancelled_by_condition(error):
            raise
    profile_reason, session_reason = reasons[0], reasons[1] if len(reasons) > 1 else {}
    valid_after = profile_reason.get("Item", {}).get("sessions_valid_after", {}).get("N")
    if dynamodb.is_condition_reason(session_reason) or valid_after is None:
        return False  # not a live session of the user's, or no profile
    values[":valid_after"] = {"N": valid_after}
    end["ConditionExpression"] += " AND created_at > :valid_after"
    try:
        dynamodb.transact_write([{"Update": end}, event])  # type: ignore[typeddict-item]
    except ClientError as error:
        if dynamodb.cancelled_by_condition(error):
            return False
        raise
    return True
