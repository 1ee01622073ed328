"""Business logic of both login calls, POST /api/token and POST /users/login: credentials
in, a new session out, with the login protection they share (SPEC.md, "Login
protection"): the attempt is counted for its name before the password is checked.

A login makes at most two DynamoDB requests: the UpdateItem that counts the attempt and
returns the name's login record, then either one TransactWriteItems that starts the
session, clears the count and records the `login` event (the password matched; a hash
of an earlier scheme is replaced in it too) or one
request that records the failure's time, from which a lockout runs, with its
`login_failed` (and `locked_out`) events for a name with an account (it did not).
"""

from __future__ import annotations

from copy import replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts.account_records import read_account
from lockbox.accounts.passwords import upgraded_hash, verify_password
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import metrics
from lockbox.core.responses import Success, express_user
from lockbox.core.settings import get_settings
from lockbox.sessions import attempt_records, session_records
from lockbox.sessions.attempt_records import FREE_ATTEMPTS
from lockbox.sessions.login_inputs import TokenInput, UsersLoginInput
from lockbox.sessions.session_calls import StartedSession, session_tokens, start_session
from lockbox.signing.lifetimes import MFA_TOKEN_LIFETIME_SECONDS
from lockbox.signing.tokens import issue_access_token, issue_mfa_token


def counted_attempt(login: str) -> attempt_records.CountedAttempt:
    """Count an attempt for the name before its password is checked; TOO_MANY_REQUESTS
    (with Retry-After) while the name is locked out."""
    try:
        return attempt_records.count_attempt(login)
    except attempt_records.LockedOutError as locked:
        metrics.add_metric(name="LoginLockouts", unit=MetricUnit.Count, value=1)
        headers = {"Retry-After": str(locked.retry_after)}
        raise ApiError(ErrorCode.TOO_MANY_REQUESTS, headers=headers) from None


def failure_events(
    record: attempt_records.CountedAttempt, origin: Activity, event: str = "login_failed"
) -> list[Any]:
    """The activity of a failed password (or second-factor) check: `login_failed` (or
    `mfa_failed`) for a name with an account, and `locked_out` too when this failure
    starts the name's first lock."""
    if record.user_id is None:
        return []
    events = [put_event(record.user_id, replace(origin, event=event))]
    if record.attempts == FREE_ATTEMPTS:
        events.append(put_event(record.user_id, replace(origin, event="locked_out")))
    return events


def refuse_unverified_email(login: str, record: attempt_records.CountedAttempt) -> None:
    """With RequireVerifiedEmail, EMAIL_NOT_VERIFIED for an unverified account once its
    password matched; the attempt is taken back, neither a failure nor a success."""
    if get_settings().require_verified_email and not record.email_verified:
        attempt_records.uncount_attempt(login)
        raise ApiError(ErrorCode.EMAIL_NOT_VERIFIED)


def log_in(
    login: str, password: str, *, refreshable: bool, origin: Activity
) -> tuple[StartedSession, attempt_records.CountedAttempt]:
    """A new session for these credentials; one bcrypt check whatever the outcome.

    Raises ApiError INVALID_CREDENTIALS, MFA_REQUIRED for an account with a second factor,
    or TOO_MANY_REQUESTS (with Retry-After) without
    checking the password while the name is locked out.
    """
    record = counted_attempt(login)  # every name is counted, whatever its length
    matched = verify_password(password, record.password_hash)
    if not (matched and record.user_id):
        attempt_records.record_failure(login, failure_events(record, origin))
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    refuse_unverified_email(login, record)
    if record.factor.enabled:
        raise second_factor_required(login, record.user_id)
    session = start_session(record.user_id, refreshable=refreshable, user_agent=origin.user_agent)
    started = replace(origin, session_id=session.record.session_id)
    attempt_records.finish_login(
        login,
        session_records.put_session(session.record),
        put_event(record.user_id, started),
        _hash_upgrade(record, password),
    )
    return session, record


def second_factor_required(login: str, user_id: str) -> ApiError:
    """The password was right but the account has a second factor (SPEC.md, "Second
    factor"): the attempt is taken back, neither a failure nor a reset, and the refusal
    carries the mfa_token that POST /api/token/mfa takes with a code. The login's second
    request is that UpdateItem."""
    attempt_records.uncount_attempt(login)
    data = {
        "mfa_token": issue_mfa_token(user_id, login),
        "expires_in": MFA_TOKEN_LIFETIME_SECONDS,
    }
    return ApiError(ErrorCode.MFA_REQUIRED, data=data)


def _hash_upgrade(
    record: attempt_records.CountedAttempt, password: str
) -> attempt_records.HashUpgrade | None:
    """The stored hash's replacement when it is of an earlier scheme (SPEC.md, "Passwords":
    upgraded on the next successful login), written by the login's own transaction."""
    assert record.user_id is not None  # the password matched: both are there
    assert record.password_hash is not None
    new_hash = upgraded_hash(password, record.password_hash)
    if new_hash is None:
        return None
    email = record.names.get("email")
    return attempt_records.HashUpgrade(record.user_id, record.password_hash, new_hash, email)


def token(request: TokenInput) -> Success:
    """POST /api/token: exchange a username (or email) and password for a new session."""
    origin = Activity("login", user_agent=request.user_agent, source_ip=request.source_ip)
    session, _ = log_in(request.username, request.password, refreshable=True, origin=origin)
    return Success(message="Access token generated successfully.", data=session_tokens(session))


def users_login(request: UsersLoginInput) -> Success:
    """POST /users/login: an access token of a new session and the user object.

    The user object comes from the name's marker, which the login read anyway; only an
    account registered before markers kept the name needs its profile read as well.
    """
    origin = Activity("login", user_agent=request.user_agent, source_ip=request.source_ip)
    session, record = log_in(request.email, request.password, refreshable=False, origin=origin)
    user_id = session.record.user_id
    names: dict[str, object] = dict(record.names)
    if "email" not in names:
        account = read_account(user_id)
        names = {"email": account.email, **account.fields} if account else {}
    user = express_user(user_id, str(names.get("email", request.email)), names)
    return Success(
        data={"token": issue_access_token(user_id, session.record.session_id), "user": user}
    )
