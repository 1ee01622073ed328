"""Business logic of POST /api/token: credentials in, access token out."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from lockbox import user_table
from lockbox.errors import ApiError, ErrorCode
from lockbox.login_inputs import TokenInput
from lockbox.observability import metrics
from lockbox.passwords import verify_password
from lockbox.responses import Success
from lockbox.tokens import TOKEN_LIFETIME_SECONDS, issue_access_token
from lockbox.validation import is_valid_unicode

# Longer login names cannot belong to any account (usernames <= 32, emails <= 254).
_MAX_LOGIN_LENGTH = 254


def authenticate(login: str, password: str) -> str | None:
    """The user id for these credentials, or None; one bcrypt check whatever the outcome."""
    plausible = len(login) <= _MAX_LOGIN_LENGTH and is_valid_unicode(login)
    record = user_table.find_login(login) if plausible else None
    matched = verify_password(password, record.password_hash if record else None)
    return record.user_id if matched and record else None


def token(request: TokenInput) -> Success:
    """POST /api/token: exchange a username (or email) and password for an access token."""
    user_id = authenticate(request.username, request.password)
    if user_id is None:
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        raise ApiError(ErrorCode.INVALID_CREDENTIALS)
    return Success(
        message="Access token generated successfully.",
        data={
            "access_token": issue_access_token(user_id),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
        },
    )
