"""Data access for logins: the attempt count on a name's marker item, and the write that
starts a session once the password matched.

The count lives on the login name's marker (`USERNAME#...` / `EMAIL#...` in the users
table, lockbox.accounts.account_records), whether or not an account has that name, so that names with
and without an account behave alike. A marker of a name without an account holds only
the count, with `expires_at` (the table's TTL attribute) so it removes itself; on a real
account's marker `if_not_exists(user_id, ...)` writes the user id there instead, a string,
which TTL ignores. Registration replaces a count-only marker (its condition is
`attribute_not_exists(user_id)`).

Attributes: `attempts` (counted attempts since the last success), `last_attempt` (Unix
milliseconds of the latest count, moved to the moment its password check failed), and
`attempt_id` (the request that counted it, so a retried write is not counted twice).
`inflight` counts attempts whose password check has not finished (until `inflight_until`,
in case a function dies mid-check): while one is in flight a name with 5 counted attempts
stays locked, so a lockout never runs out while bcrypt is still deciding.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from lockbox.accounts.user_keys import email_pk, login_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.core.validation import is_valid_unicode
from lockbox.mfa.mfa_state import NO_FACTOR, SecondFactor, second_factor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

FREE_ATTEMPTS = 5  # failures before the first lockout
FIRST_LOCKOUT_SECONDS = 1
MAX_LOCKOUT_SECONDS = 900
QUIET_RESET_SECONDS = 900  # 15 minutes without a failure reset the count
_INFLIGHT_SECONDS = 30  # longer than any function's timeout: a check still running
_COUNT_ONLY_TTL_SECONDS = 2 * QUIET_RESET_SECONDS
_ROUNDS = 4  # a count found stale is reset by a second write; a race may need another
_CONFLICT_BACKOFF_SECONDS = 0.02
# What a name's count is made of, on its marker: removed together to clear the count.
COUNT_ATTRIBUTES = "attempts, last_attempt, attempt_id, inflight, inflight_until"
# Longer names cannot belong to any account (usernames <= 32, emails <= 254 characters).
_LONGEST_NAME = 254
_HASHED_NAME = "LOGINHASH#"


def counted_pk(login: str) -> str:
    """The item that counts a name's attempts: its marker, or for a name no account can
    have (too long for a key of its own, or not valid Unicode) an item named by its hash,
    so that every name is counted, whatever its length."""
    if len(login) <= _LONGEST_NAME and is_valid_unicode(login):
        return login_pk(login)
    digest = hashlib.sha256(login.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_HASHED_NAME}{digest}"


def lockout_seconds(attempts: int) -> int:
    """How long a name stays locked after `attempts` counted failures (0: not locked)."""
    if attempts < FREE_ATTEMPTS:
        return 0
    return min(MAX_LOCKOUT_SECONDS, FIRST_LOCKOUT_SECONDS << min(attempts - FREE_ATTEMPTS, 10))


class CountedAttempt(NamedTuple):
    """An attempt that may check the password: the account's login record, if any."""

    user_id: str | None
    password_hash: str | None
    names: dict[str, str]  # email (as sent), full_name or firstname/lastname, if recorded
    attempts: int = 1  # counted attempts since the last success, this one included
    factor: SecondFactor = NO_FACTOR  # the account's factor, as its marker copies it
    email_verified: bool = False  # the account's address was verified (RequireVerifiedEmail)


class LockedOutError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("locked out")
        self.retry_after = retry_after


def _not_locked_condition() -> tuple[str, tuple[tuple[int, int], ...]]:
    """A condition true when the name is not locked, one case per lockout length, and the
    (count, seconds) pairs whose `:a<count>` and `:t<count>` values it names.

    DynamoDB conditions have no arithmetic, so `last_attempt + 2^(attempts-5) <= now` is
    spelled out for each count (the length stops doubling at 900 s). While an attempt is
    in flight (its password check unfinished), the lock holds.
    """
    expired, lengths = [], []
    attempts = FREE_ATTEMPTS
    while True:
        seconds = lockout_seconds(attempts)
        lengths.append((attempts, seconds))
        if seconds >= MAX_LOCKOUT_SECONDS:
            expired.append(f"(attempts >= :a{attempts} AND last_attempt <= :t{attempts})")
            break
        expired.append(f"(attempts = :a{attempts} AND last_attempt <= :t{attempts})")
        attempts += 1
    settled = "(attribute_not_exists(inflight) OR inflight <= :zero OR inflight_until <= :now)"
    condition = (
        "(attribute_not_exists(attempts) OR attempts < :free"
        f" OR ({settled} AND ({' OR '.join(expired)})))"
    )
    return condition, tuple(lengths)


_NOT_LOCKED, _LOCKOUT_LENGTHS = _not_locked_condition()
_COUNT_CONDITION = (
    "(attribute_not_exists(attempt_id) OR attempt_id <> :aid)"
    " AND (attribute_not_exists(last_attempt) OR last_attempt > :stale)"
    f" AND {_NOT_LOCKED}"
)


# The condition's constant values, built once; each call adds the moments lockouts end.
_COUNT_VALUES: dict[str, Any] = {":free": {"N": str(FREE_ATTEMPTS)}} | {
    f":a{attempts}": {"N": str(attempts)} for attempts, _ in _LOCKOUT_LENGTHS
}
_LOCKOUT_MOMENTS = tuple(
    (f":t{attempts}", seconds * 1000) for attempts, seconds in _LOCKOUT_LENGTHS
)


def _now_ms() -> int:
    """Unix milliseconds: the one clock of the count and its lockouts."""
    return time.time_ns() // 1_000_000


def _lockout_values(now_ms: int) -> dict[str, Any]:
    values = dict(_COUNT_VALUES)
    for name, lockout_ms in _LOCKOUT_MOMENTS:
        values[name] = {"N": str(now_ms - lockout_ms)}
    return values


def count_attempt(login: str) -> CountedAttempt:
    """Count a login attempt for this name before its password is checked.

    One UpdateItem in the usual case: it counts the attempt unless the name is locked,
    and returns the login record. A count whose last failure is over 15 minutes old is
    reset by a second conditional write (so that a rush of attempts on it is still
    counted exactly). Raises LockedOutError with the seconds to wait.
    """
    table = get_settings().users_table
    key = {"pk": {"S": counted_pk(login)}}
    attempt_id = secrets.token_hex(16)
    client = dynamodb.client()
    for _ in range(_ROUNDS):
        now_ms = _now_ms()
        values = _lockout_values(now_ms) | {
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":now": {"N": str(now_ms)},
            ":aid": {"S": attempt_id},
            ":stale": {"N": str(now_ms - QUIET_RESET_SECONDS * 1000)},
            ":expiry": {"N": str(now_ms // 1000 + _COUNT_ONLY_TTL_SECONDS)},
            ":inflight_until": {"N": str(now_ms + _INFLIGHT_SECONDS * 1000)},
        }
        try:
            response = client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression=(
                    "SET attempts = if_not_exists(attempts, :zero) + :one, last_attempt = :now,"
                    " attempt_id = :aid, expires_at = if_not_exists(user_id, :expiry),"
                    " inflight = if_not_exists(inflight, :zero) + :one,"
                    " inflight_until = :inflight_until"
                ),
                ConditionExpression=_COUNT_CONDITION,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return _login_record(response["Attributes"])
        except ClientError as error:
            if dynamodb.error_code(error) == "TransactionConflictException":
                # A registration or password change is writing this marker: count again.
                dynamodb.backoff(0)
                continue
            if not dynamodb.condition_failed(error):
                raise
            old: dict[str, Any] = dict(error.response.get("Item") or {})  # type: ignore[call-overload]
        if old.get("attempt_id", {}).get("S") == attempt_id:
            return _login_record(old)  # our first try was written; its answer was lost
        attempts = int(old.get("attempts", {}).get("N", "0"))
        last_ms = int(old.get("last_attempt", {}).get("N", "0"))
        if last_ms > now_ms - QUIET_RESET_SECONDS * 1000:
            locked_until_ms = last_ms + lockout_seconds(attempts) * 1000
            raise LockedOutError(max(1, math.ceil((locked_until_ms - now_ms) / 1000)))
        restarted = _restart_count(key, last_ms, attempt_id, values)
        if restarted is not None:
            return restarted
    raise LockedOutError(FIRST_LOCKOUT_SECONDS)  # the name is under a storm of attempts


def _restart_count(
    key: dict[str, Any], seen_last_ms: int, attempt_id: str, values: dict[str, Any]
) -> CountedAttempt | None:
    """Reset a stale count to this one attempt, unless another attempt got there first."""
    try:
        response = dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key=key,
            UpdateExpression=(
                "SET attempts = :one, last_attempt = :now, attempt_id = :aid,"
                " expires_at = if_not_exists(user_id, :expiry), inflight = :one,"
                " inflight_until = :inflight_until"
            ),
            ConditionExpression="last_attempt = :seen",
            ExpressionAttributeValues={
                ":one": values[":one"],
                ":now": values[":now"],
                ":aid": {"S": attempt_id},
                ":expiry": values[":expiry"],
                ":inflight_until": values[":inflight_until"],
                ":seen": {"N": str(seen_last_ms)},
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise
        return None
    return _login_record(response["Attributes"])


def _login_record(item: dict[str, Any]) -> CountedAttempt:
    user_id = item.get("user_id", {}).get("S")
    password_hash = item.get("password_hash", {}).get("S")
    names = {
        name: item[name]["S"]
        for name in ("email", "full_name", "firstname", "lastname")
        if "S" in item.get(name, {})
    }
    attempts = int(item.get("attempts", {}).get("N", "1"))
    verified = item.get("email_verified", {}).get("BOOL") is True
    return CountedAttempt(user_id, password_hash, names, attempts, second_factor(item), verified)


def record_failure(login: str, events: list[TransactWriteItemTypeDef] | None = None) -> None:
    """The password check failed: the lockout runs from now, and the attempt is no longer
    in flight (the failed login's second request). `events` (the activity of a name with an
    account) are written in the same request, a transaction; should a success have reset
    the count meanwhile, they are written alone, a third request."""
    now_ms = _now_ms()
    update: dict[str, Any] = {
        "TableName": get_settings().users_table,
        "Key": {"pk": {"S": counted_pk(login)}},
        "UpdateExpression": "SET last_attempt = :now ADD inflight :minus_one",
        # Unconditional on the time: an attempt counted meanwhile sets it again when its
        # own check fails; the in-flight count must come down whatever the order.
        "ConditionExpression": "attribute_exists(attempts)",
        "ExpressionAttributeValues": {":now": {"N": str(now_ms)}, ":minus_one": {"N": "-1"}},
    }
    try:
        if events:
            dynamodb.transact_write([{"Update": update}, *events])  # type: ignore[typeddict-item]
        else:
            dynamodb.client().update_item(**update)
    except ClientError as error:
        # A success reset the count meanwhile: nothing to record on the count.
        if not (dynamodb.condition_failed(error) or dynamodb.cancelled_by_condition(error)):
            raise
        if events:
            dynamodb.transact_write(events)


def uncount_attempt(login: str) -> None:
    """Take back an attempt whose password matched but that is answered without a session
    (the account has a second factor: SPEC.md, "Second factor"; or EMAIL_NOT_VERIFIED): it
    neither counts as a failure nor resets the count. One UpdateItem (the login's second
    request); a success that reset the count meanwhile leaves nothing to take back."""
    try:
        dynamodb.client().update_item(
            TableName=get_settings().users_table,
            Key={"pk": {"S": counted_pk(login)}},
            UpdateExpression="ADD attempts :minus_one, inflight :minus_one",
            ConditionExpression="attempts > :zero",
            ExpressionAttributeValues={":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise


class HashUpgrade(NamedTuple):
    """A new hash for a password that just matched a hash of an earlier scheme (or pepper,
    or cost), stored by the login's own transaction on the profile and on the markers the
    login knows: its own, and for a login by username the email's (a login by email
    cannot name the username's marker, which the next login by username upgrades)."""

    user_id: str
    old_hash: str  # as read from the login's marker: the condition that nothing changed
    new_hash: str
    email: str | None  # the account's address, for a login by username

    def items(self, login: str) -> list[TransactWriteItemTypeDef]:
        """The writes besides the login's own marker (which reset_count updates): the
        profile and the other marker, each still this account's. The marker's condition
        on the old hash guards them all: every password change writes every copy."""
        others = [user_pk(self.user_id)]
        if "@" not in login and self.email is not None:
            others.append(email_pk(self.email))
        return [
            {
                "Update": {
                    "TableName": get_settings().users_table,
                    "Key": {"pk": {"S": pk}},
                    "UpdateExpression": "SET password_hash = :new_hash",
                    "ConditionExpression": "user_id = :user_id",
                    "ExpressionAttributeValues": {
                        ":new_hash": {"S": self.new_hash},
                        ":user_id": {"S": self.user_id},
                    },
                }
            }
            for pk in others
        ]


def reset_count(login: str, upgrade: HashUpgrade | None = None) -> TransactWriteItemTypeDef:
    """The Update that clears the name's count, for the transaction of a successful login;
    with `upgrade`, it also stores the new hash, if the marker still holds the old one."""
    update: dict[str, Any] = {
        "TableName": get_settings().users_table,
        "Key": {"pk": {"S": counted_pk(login)}},
        "UpdateExpression": f"REMOVE {COUNT_ATTRIBUTES}",
        "ConditionExpression": "attribute_exists(user_id)",
    }
    if upgrade is not None:
        update["UpdateExpression"] = f"SET password_hash = :new_hash REMOVE {COUNT_ATTRIBUTES}"
        update["ConditionExpression"] = "attribute_exists(user_id) AND password_hash = :old_hash"
        update["ExpressionAttributeValues"] = {
            ":new_hash": {"S": upgrade.new_hash},
            ":old_hash": {"S": upgrade.old_hash},
        }
    return {"Update": update}  # type: ignore[typeddict-item]


def clear_count(login: str) -> None:
    """Clear the name's count and lockout (one UpdateItem, idempotent): what a password
    reset calls, so that a stranger who keeps a name locked never keeps its owner out
    (SPEC.md, "Login protection"). A name without an account loses its count-only item."""
    table = get_settings().users_table
    key = {"pk": {"S": counted_pk(login)}}
    try:
        dynamodb.client().update_item(
            TableName=table,
            Key=key,
            UpdateExpression=f"REMOVE {COUNT_ATTRIBUTES}",
            ConditionExpression="attribute_exists(user_id)",
        )
    except ClientError as error:
        if not dynamodb.condition_failed(error):
            raise
        try:  # a count-only item: nothing else is on it
            dynamodb.client().delete_item(
                TableName=table, Key=key, ConditionExpression="attribute_not_exists(user_id)"
            )
        except ClientError as again:
            if not dynamodb.condition_failed(again):
                raise


def finish_login(
    login: str,
    session: TransactWriteItemTypeDef,
    event: TransactWriteItemTypeDef,
    upgrade: HashUpgrade | None = None,
) -> None:
    """Start the session, clear the name's count and record the login: one TransactWriteItems,
    which also stores `upgrade`'s new hash. Should the password have changed since it was
    read (the upgrade's condition fails), the login is written without it, as it would
    have been before hashes were upgraded: a second transaction, only in that race.

    A login of the same name counted at that moment makes DynamoDB cancel the transaction
    (TransactionConflict); it is tried again, briefly, rather than answered with a 500.
    """
    if upgrade is not None:
        try:
            dynamodb.transact_write(
                [session, reset_count(login, upgrade), event, *upgrade.items(login)]
            )
            return
        except ClientError as error:
            if not dynamodb.cancelled_by_condition(error):
                raise
    dynamodb.transact_write([session, reset_count(login), event])
