"""Business logic of the second-factor calls (SPEC.md, "Second factor (TOTP)"): enrolment
(setup, then confirm with a first code), turning it off, replacing the recovery codes, and
the login's second step, POST /api/token/mfa.

The calls that take the password count it in the login protection of the account's name,
as a password change does (lockbox.accounts.account_calls.checked_attempt); a wrong code
after a right password counts as that attempt's failure (`mfa_failed`), and the call's
write clears the count. Every accepted code is used by the write's own condition
(lockbox.mfa.mfa_records), so a code is accepted once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from lockbox.accounts.account_calls import checked_attempt
from lockbox.accounts.account_records import (
    Account,
    Caller,
    account_markers,
    login_name,
    read_account_of_session,
)
from lockbox.activity.activity_records import Activity, put_event
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import logger
from lockbox.core.responses import Success
from lockbox.mfa import mfa_records, recovery_codes, totp
from lockbox.mfa.code_checks import checked_code, pending_step
from lockbox.mfa.mfa_inputs import ConfirmInput, ProofInput, SetupInput, TokenMfaInput
from lockbox.mfa.mfa_state import CodeUse
from lockbox.mfa.step_up import proven_code, refuse_code
from lockbox.sessions import attempt_records, session_records
from lockbox.sessions.attempt_records import CountedAttempt, counted_pk
from lockbox.sessions.login_calls import counted_attempt
from lockbox.sessions.session_calls import session_tokens, start_session
from lockbox.sessions.session_inputs import SessionCaller
from lockbox.signing.tokens import InvalidTokenError, verify_mfa_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

SETUP_MESSAGE = "Add the secret to an authenticator app, then confirm with a code."


def _origin(event: str, caller: SessionCaller) -> Activity:
    return Activity(event, caller.session_id, caller.user_agent, caller.source_ip)


def _settled(name: str) -> None:
    """A right password on a call refused for the factor's state: its count is cleared,
    as the call's own write would have."""
    attempt_records.clear_count(name)


def setup(request: SetupInput) -> Success:
    """POST /api/mfa/totp/setup: a new secret waits for its first code; nothing else
    changes until it is confirmed. MFA_ALREADY_ENABLED while the factor is on."""
    caller = request.caller
    account, _, _ = checked_attempt(caller, request.password)
    name = login_name(account)
    if account.factor.enabled:
        _settled(name)
        raise ApiError(ErrorCode.MFA_ALREADY_ENABLED)
    secret = totp.new_secret()
    pending = mfa_records.put_pending(account.user_id, totp.seal_secret(secret, account.user_id))
    try:
        mfa_records.transact(account.user_id, pending, [attempt_records.reset_count(name)])
    except mfa_records.CodeRefusedError:
        raise ApiError(ErrorCode.MFA_ALREADY_ENABLED) from None  # confirmed meanwhile
    except mfa_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    data = {"secret": secret, "otpauth_uri": totp.otpauth_uri(secret, name)}
    return Success(message=SETUP_MESSAGE, data=data)


def confirm(request: ConfirmInput) -> Success:
    """POST /api/mfa/totp/confirm: the first code of the pending secret turns the factor
    on (on the profile and every marker) with ten new recovery codes, shown this once."""
    caller = request.caller
    account, alive_since = read_account_of_session(caller.user_id, caller.session_id)
    if account is None or alive_since is None:
        raise ApiError(ErrorCode.INVALID_TOKEN)
    factor = account.factor
    if factor.enabled:
        raise ApiError(ErrorCode.MFA_ALREADY_ENABLED)
    if factor.pending is None:
        raise ApiError(ErrorCode.MFA_NOT_ENABLED)  # no setup to confirm
    step = pending_step(factor, account.user_id, request.code)
    if step is None:
        raise ApiError(ErrorCode.INVALID_MFA_CODE)
    codes = recovery_codes.new_codes()
    hashes = recovery_codes.code_hashes(codes)
    profile = mfa_records.spares_caller(
        mfa_records.enable(factor.pending, step, hashes), caller.session_id, alive_since
    )
    markers = [
        mfa_records.enable_marker(account.user_id, factor.pending, hashes).item(pk)
        for pk in account_markers(account)
    ]
    try:
        mfa_records.transact(
            account.user_id,
            profile,
            [
                *markers,
                session_records.still_alive(account.user_id, caller.session_id, alive_since),
                put_event(account.user_id, _origin("mfa_enabled", caller)),
            ],
        )
    except mfa_records.CodeRefusedError as refused:
        if refused.factor.enabled:
            raise ApiError(ErrorCode.MFA_ALREADY_ENABLED) from None
        raise ApiError(ErrorCode.INVALID_MFA_CODE) from None  # another setup replaced it
    except mfa_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    logger.debug("Second factor enabled", extra={"user_id": account.user_id})
    return Success(message="Two-factor authentication enabled.", data={"recovery_codes": codes})


class Proof(NamedTuple):
    """A call proved by the password and a code: the account, the caller's session as
    read, the counted attempt and what the code uses."""

    account: Account
    session: Caller
    attempt: CountedAttempt
    use: CodeUse


def _proven_account(request: ProofInput) -> Proof:
    """The caller's account once both its password and a code were proved: the password
    counted and checked, MFA_NOT_ENABLED while the factor is off, then the code."""
    caller = request.caller
    account, session, attempt = checked_attempt(caller, request.password)
    if not account.factor.enabled:
        _settled(login_name(account))
        raise ApiError(ErrorCode.MFA_NOT_ENABLED)
    use = proven_code(account, attempt, request.code, _origin("mfa_failed", caller))
    return Proof(account, session, attempt, use)


def _write_proven(
    request: ProofInput,
    proof: Proof,
    profile: mfa_records.Update,
    markers: list[mfa_records.Update],
    events: list[TransactWriteItemTypeDef],
) -> None:
    """The write of a call proved by a code: the code's use rides on the profile's
    condition; a code used meanwhile is INVALID_MFA_CODE, counted."""
    account, session = proof.account, proof.session
    profile = mfa_records.spares_caller(profile, session.session_id, session.created_at)
    pks = account_markers(account)
    try:
        mfa_records.transact(
            account.user_id,
            profile,
            [
                *(update.item(pk) for update, pk in zip(markers, pks, strict=True)),
                session_records.still_alive(
                    account.user_id, session.session_id, session.created_at
                ),
                *events,
            ],
        )
    except mfa_records.CodeRefusedError:
        failed = _origin("mfa_failed", request.caller)
        raise refuse_code(login_name(account), proof.attempt, failed) from None
    except mfa_records.AccountGoneError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None


def _counted_markers(account: Account) -> list[bool]:
    """For each of the account's markers: is it the one that counts its name's attempts?"""
    counted = counted_pk(login_name(account))
    return [pk == counted for pk in account_markers(account)]


def disable(request: ProofInput) -> Success:
    """DELETE /api/mfa/totp: with the password and a code, the factor is off on the
    profile and every marker, recovery codes included."""
    proof = _proven_account(request)
    account = proof.account
    assert account.factor.secret is not None  # _proven_account refused a factor that is off
    markers = [
        mfa_records.disable_marker(account.user_id, counted=counted)
        for counted in _counted_markers(account)
    ]
    disabled = put_event(account.user_id, _origin("mfa_disabled", request.caller))
    profile = mfa_records.disable(account.factor.secret, proof.use)
    _write_proven(request, proof, profile, markers, [disabled])
    logger.debug("Second factor disabled", extra={"user_id": account.user_id})
    return Success(message="Two-factor authentication disabled.")


def replace_recovery_codes(request: ProofInput) -> Success:
    """POST /api/mfa/recovery-codes: with the password and a code, ten new recovery codes
    replace every old one, shown this once."""
    proof = _proven_account(request)
    account = proof.account
    assert account.factor.secret is not None
    codes = recovery_codes.new_codes()
    hashes = recovery_codes.code_hashes(codes)
    markers = [
        mfa_records.replace_codes_marker(account.user_id, hashes, counted=counted)
        for counted in _counted_markers(account)
    ]
    profile = mfa_records.replace_codes(account.factor.secret, proof.use, hashes)
    _write_proven(request, proof, profile, markers, [])
    return Success(message="Recovery codes replaced.", data={"recovery_codes": codes})


def token_mfa(request: TokenMfaInput) -> Success:
    """POST /api/token/mfa: the login's second step, answered as POST /api/token answers.

    Two DynamoDB requests: the attempt counted on the name the password step counted (its
    marker answers the account's factor, so the code is checked without another read),
    then one transaction that spends the mfa_token, uses the code (the profile's
    condition), starts the session, clears the count and records the login; or, for a
    wrong code, the failure recorded with its `mfa_failed` event. A code or token that a
    concurrent request used first costs a third request: that failure's record."""
    try:
        claims = verify_mfa_token(request.mfa_token)
    except InvalidTokenError:
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    origin = Activity("login", user_agent=request.user_agent, source_ip=request.source_ip)
    attempt = counted_attempt(claims.login)  # 429 while the name is locked
    if attempt.user_id != claims.user_id or not attempt.factor.enabled:
        # The account, or its factor, is gone since the password step.
        attempt_records.uncount_attempt(claims.login)
        raise ApiError(ErrorCode.INVALID_TOKEN)
    failed = Activity("mfa_failed", None, request.user_agent, request.source_ip)
    use = checked_code(attempt.factor, claims.user_id, request.code)
    if use is None:
        raise refuse_code(claims.login, attempt, failed)
    session = start_session(claims.user_id, refreshable=True, user_agent=request.user_agent)
    started = Activity("login", session.record.session_id, origin.user_agent, origin.source_ip)
    marker = mfa_records.marker_update(claims.user_id, counted=True, use=use)
    try:
        mfa_records.transact(
            claims.user_id,
            mfa_records.use_code(mfa_records.factor_on(), use),
            [
                mfa_records.spend_mfa_token(claims.token_id, claims.expires_at),
                marker.item(counted_pk(claims.login)),
                session_records.put_session(session.record),
                put_event(claims.user_id, started),
            ],
        )
    except mfa_records.MfaTokenSpentError:
        attempt_records.uncount_attempt(claims.login)
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    except mfa_records.CodeRefusedError:  # a replay: the code's step was used already
        raise refuse_code(claims.login, attempt, failed) from None
    except mfa_records.AccountGoneError:
        attempt_records.uncount_attempt(claims.login)
        raise ApiError(ErrorCode.INVALID_TOKEN) from None
    return Success(message="Access token generated successfully.", data=session_tokens(session))
