"""Data access for the second factor: its items' attributes (lockbox.mfa.mfa_state) and
the conditional writes that turn it on and off, replace recovery codes and use a code.

Every write that accepts a code carries the code's use in the profile's own condition:
a TOTP code sets `totp_last_step` only to a later step than the stored one, a recovery
code is removed from the set only while it is in it, so of concurrent requests with one
code exactly one commits, and a replayed code is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.accounts.user_keys import MFA_TOKEN, mfa_token_pk, user_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings
from lockbox.mfa import mfa_state
from lockbox.mfa.mfa_state import CodeUse, SealedSecret
from lockbox.sessions.attempt_records import COUNT_ATTRIBUTES
from lockbox.sessions.session_records import SPARES_SESSION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class Update:
    """An UpdateItem expression built clause by clause, with its condition and values.
    A plain class: a dataclass's generated methods are compiled at every cold start."""

    __slots__ = ("conditions", "deletes", "removes", "sets", "values")

    def __init__(
        self,
        *,
        sets: list[str] | None = None,
        removes: list[str] | None = None,
        deletes: list[str] | None = None,
        conditions: list[str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self.sets = sets or []
        self.removes = removes or []
        self.deletes = deletes or []
        self.conditions = conditions or []
        self.values = values or {}

    def expression(self) -> str:
        clauses = [
            f"{verb} {', '.join(parts)}"
            for verb, parts in (
                ("SET", self.sets),
                ("REMOVE", self.removes),
                ("DELETE", self.deletes),
            )
            if parts
        ]
        return " ".join(clauses)

    def item(self, pk: str) -> TransactWriteItemTypeDef:
        update: dict[str, Any] = {
            "TableName": get_settings().users_table,
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": self.expression(),
            "ConditionExpression": " AND ".join(self.conditions),
        }
        if self.values:
            update["ExpressionAttributeValues"] = self.values
        return {"Update": update}  # type: ignore[typeddict-item]


def use_code(update: Update, use: CodeUse, *, spend_recovery: bool = True) -> Update:
    """Add a code's use to the profile's update: the write commits only if the code is
    still unused (a later step than the last accepted, a recovery code still held).
    `spend_recovery=False` for a write that replaces or removes the whole set anyway."""
    if use.step is not None:
        update.sets.append(f"{mfa_state.LAST_STEP} = :step")
        update.conditions.append(
            f"(attribute_not_exists({mfa_state.LAST_STEP}) OR {mfa_state.LAST_STEP} < :step)"
        )
        update.values[":step"] = {"N": str(use.step)}
    if use.recovery_hash is not None:
        update.conditions.append(f"contains({mfa_state.RECOVERY_CODES}, :used_code)")
        update.values[":used_code"] = {"S": use.recovery_hash}
        if spend_recovery:
            update.deletes.append(f"{mfa_state.RECOVERY_CODES} :used")
            update.values[":used"] = {"SS": [use.recovery_hash]}
    return update


def marker_update(user_id: str, *, counted: bool, use: CodeUse | None = None) -> Update:
    """A marker's update, conditional on it still being the account's; `counted` clears
    the name's login protection count (a success), `use` removes a used recovery code's
    copy."""
    update = Update(conditions=["user_id = :user_id"], values={":user_id": {"S": user_id}})
    if counted:
        update.removes.append(COUNT_ATTRIBUTES)
    if use is not None and use.recovery_hash is not None:
        update.deletes.append(f"{mfa_state.RECOVERY_CODES} :used")
        update.values[":used"] = {"SS": [use.recovery_hash]}
    return update


def factor_values(secret: SealedSecret, hashes: list[str]) -> dict[str, Any]:
    return {
        ":secret": {"B": secret.sealed},
        ":secret_key": {"S": secret.key_version},
        ":codes": {"SS": hashes},
    }


FACTOR_SET = (
    f"{mfa_state.SECRET} = :secret, {mfa_state.SECRET_KEY} = :secret_key,"
    f" {mfa_state.RECOVERY_CODES} = :codes"
)


def unchanged_factor(update: Update, secret: SealedSecret) -> Update:
    """The profile's condition that its factor is still the one whose code was checked."""
    update.conditions.append(f"{mfa_state.SECRET} = :checked_secret")
    update.values[":checked_secret"] = {"B": secret.sealed}
    return update


def spares_caller(update: Update, session_id: str, created_at: int) -> Update:
    """The profile's side of the caller's session check (lockbox.sessions.session_records):
    it has not ended the session since it was read; the session's own item is a
    ConditionCheck (`still_alive`) of the same transaction."""
    update.conditions.append(SPARES_SESSION)
    update.values[":sid"] = {"S": session_id}
    update.values[":created"] = {"N": str(created_at)}
    return update


def factor_on() -> Update:
    """A profile update's condition that the factor is (still) on."""
    return Update(conditions=[f"attribute_exists({mfa_state.SECRET})"])


def put_pending(user_id: str, pending: SealedSecret) -> Update:
    """The profile's update that starts an enrolment: the secret waits for its first code;
    refused once the factor is on."""
    return Update(
        sets=[f"{mfa_state.PENDING} = :pending, {mfa_state.PENDING_KEY} = :pending_key"],
        conditions=["attribute_exists(pk)", f"attribute_not_exists({mfa_state.SECRET})"],
        values={":pending": {"B": pending.sealed}, ":pending_key": {"S": pending.key_version}},
    )


def enable(pending: SealedSecret, step: int, hashes: list[str]) -> Update:
    """The profile's update that turns the factor on with the pending secret, whose code
    of `step` confirmed it (that code counts as used)."""
    update = Update(
        sets=[FACTOR_SET, f"{mfa_state.LAST_STEP} = :step"],
        removes=[f"{mfa_state.PENDING}, {mfa_state.PENDING_KEY}"],
        conditions=[f"{mfa_state.PENDING} = :pending", f"attribute_not_exists({mfa_state.SECRET})"],
        values={
            **factor_values(pending, hashes),
            ":pending": {"B": pending.sealed},
            ":step": {"N": str(step)},
        },
    )
    return update


def enable_marker(user_id: str, secret: SealedSecret, hashes: list[str]) -> Update:
    """A marker's copy of the factor being turned on."""
    update = marker_update(user_id, counted=False)
    update.sets.append(FACTOR_SET)
    update.values.update(factor_values(secret, hashes))
    return update


def disable(secret: SealedSecret, use: CodeUse) -> Update:
    """The profile's update that turns the factor off, using the code that proved it."""
    update = unchanged_factor(use_code(Update(), use, spend_recovery=False), secret)
    update.removes.append(
        f"{mfa_state.MARKER_ATTRIBUTES}, {mfa_state.PENDING}, {mfa_state.PENDING_KEY}"
    )
    return update


def disable_marker(user_id: str, *, counted: bool) -> Update:
    update = marker_update(user_id, counted=counted)
    update.removes.append(mfa_state.MARKER_ATTRIBUTES)
    return update


def replace_codes(secret: SealedSecret, use: CodeUse, hashes: list[str]) -> Update:
    """The profile's update that replaces every recovery code, using the code that proved it."""
    update = unchanged_factor(use_code(Update(), use, spend_recovery=False), secret)
    update.sets.append(f"{mfa_state.RECOVERY_CODES} = :codes")
    update.values[":codes"] = {"SS": hashes}
    return update


def replace_codes_marker(user_id: str, hashes: list[str], *, counted: bool) -> Update:
    update = marker_update(user_id, counted=counted)
    update.sets.append(f"{mfa_state.RECOVERY_CODES} = :codes")
    update.values[":codes"] = {"SS": hashes}
    return update


def spend_mfa_token(jti: str, expires_at: int) -> TransactWriteItemTypeDef:
    """The Put that spends an mfa_token: refused if it was spent before. TTL removes it
    once the token has expired anyway."""
    return {
        "Put": {
            "TableName": get_settings().users_table,
            "Item": {"pk": {"S": mfa_token_pk(jti)}, "expires_at": {"N": str(expires_at)}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class CodeRefusedError(Exception):
    """The profile refused the write: the code was used meanwhile (or replayed), or the
    factor changed since it was checked. Nothing was written. `factor`: the profile's, as
    the refusal found it."""

    def __init__(self, factor: mfa_state.SecondFactor) -> None:
        super().__init__("refused")
        self.factor = factor


class AccountGoneError(Exception):
    """The account or the caller's session ended before the write. Nothing was written."""


class MfaTokenSpentError(Exception):
    """The mfa_token was used before. Nothing was written."""


def transact(user_id: str, profile: Update, others: list[TransactWriteItemTypeDef]) -> None:
    """One transaction of the profile's update (first) and the other items; a cancelled
    one raises the error of the first item whose condition failed: MfaTokenSpentError for
    an mfa_token spent before (listed among `others`), CodeRefusedError when the profile
    exists but refused, else AccountGoneError."""
    item = profile.item(user_pk(user_id))
    item["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        dynamodb.transact_write([item, *others])
    except ClientError as error:
        if not dynamodb.cancelled_by_condition(error):
            raise
        reasons = dynamodb.cancellation_reasons(error) or []
        for reason, written in zip(reasons[1:], others, strict=False):
            put = written.get("Put")
            if dynamodb.is_condition_reason(reason) and put and _is_mfa_token(put["Item"]):
                raise MfaTokenSpentError from None
        first = reasons[0] if reasons else {}
        if dynamodb.is_condition_reason(first) and first.get("Item"):
            raise CodeRefusedError(mfa_state.second_factor(first["Item"])) from None
        raise AccountGoneError from None


def _is_mfa_token(item: Any) -> bool:
    return str(item.get("pk", {}).get("S", "")).startswith(MFA_TOKEN)


def with_code_use(operation: dict[str, Any], use: CodeUse | None) -> dict[str, Any]:
    """A profile's operation in another call's transaction (a password change's Update of
    one SET clause, or a deletion's Delete) with a step-up code's use added: the write
    commits only with an unused code. A Delete takes the condition alone."""
    if use is None:
        return operation
    step = use_code(Update(), use, spend_recovery="UpdateExpression" in operation)
    merged = dict(operation)
    if "UpdateExpression" in merged:
        expression = str(merged["UpdateExpression"])
        assert expression.startswith("SET ")  # one SET clause, which the step's sets join
        merged["UpdateExpression"] = ", ".join([expression, *step.sets]) + (
            f" DELETE {', '.join(step.deletes)}" if step.deletes else ""
        )
    condition = " AND ".join(step.conditions)
    existing = merged.get("ConditionExpression")
    merged["ConditionExpression"] = f"({existing}) AND {condition}" if existing else condition
    merged["ExpressionAttributeValues"] = {
        **merged.get("ExpressionAttributeValues", {}),
        **step.values,
    }
    return merged
