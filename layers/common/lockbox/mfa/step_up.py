"""Step-up: the calls that change an account with the password (password change, account
deletion, turning the factor off, new recovery codes) also need a code while the factor is
on (SPEC.md, "Second factor"). The code is checked after the password, counted in the same
login protection, and used by the call's own write (lockbox.mfa.mfa_records.use_code).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts.account_records import Account, login_name
from lockbox.activity.activity_records import Activity
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.observability import metrics
from lockbox.mfa.code_checks import checked_code
from lockbox.mfa.mfa_state import CodeUse
from lockbox.sessions import attempt_records
from lockbox.sessions.attempt_records import CountedAttempt
from lockbox.sessions.login_calls import failure_events


def refuse_code(name: str, attempt: CountedAttempt, origin: Activity) -> ApiError:
    """A wrong (or already used) code after a right password: one failure for the name
    the password step counted, with its `mfa_failed` event."""
    attempt_records.record_failure(name, failure_events(attempt, origin, "mfa_failed"))
    metrics.add_metric(name="FailedMfaCodes", unit=MetricUnit.Count, value=1)
    return ApiError(ErrorCode.INVALID_MFA_CODE)


def proven_code(account: Account, attempt: CountedAttempt, code: str, origin: Activity) -> CodeUse:
    """What the caller's code uses on their account (its factor is on); INVALID_MFA_CODE,
    counted, for a wrong one."""
    use = checked_code(account.factor, account.user_id, code)
    if use is None:
        raise refuse_code(login_name(account), attempt, origin)
    return use


def step_up(
    account: Account, attempt: CountedAttempt, code: str | None, origin: Activity
) -> CodeUse | None:
    """For an account with the factor on, what the caller's code uses, for the call's write
    (lockbox.mfa.mfa_records.with_code_use); None without a factor: no code needed. A
    missing code is INVALID_REQUEST, a wrong one INVALID_MFA_CODE (counted)."""
    if not account.factor.enabled:
        return None
    if code is None:
        raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("code", "Code is required.")])
    return proven_code(account, attempt, code, origin)
