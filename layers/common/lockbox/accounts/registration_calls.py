"""Business logic of both registration calls, POST /api/register and POST /users/register,
and the account creation they share.

Accounts from /users/register share the users table (and email uniqueness) with
/api/register but have no username: they log in with their email address.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit

from lockbox.accounts import account_records
from lockbox.accounts.passwords import hash_password
from lockbox.accounts.registration_inputs import RegisterInput, UsersRegisterInput
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.observability import logger, metrics
from lockbox.core.responses import Success
from lockbox.sessions.session_calls import StartedSession, start_session
from lockbox.sessions.session_records import put_session
from lockbox.signing.tokens import issue_access_token

EMAIL_TAKEN = Detail(field="email", message="Email is already registered")


def create_account(
    *,
    email: str,
    password: str,
    profile: Mapping[str, str | int],
    username: str | None = None,
    session: StartedSession | None = None,
) -> str:
    """Hash the password and write the account in one transaction; its new user id.

    `session`, started for the new user id (see users_register), is written with it.

    Raises account_records.UsernameTakenError or account_records.EmailTakenError, for each call to
    answer in its own format.
    """
    user = account_records.NewUser(
        user_id=session.record.user_id if session else str(uuid.uuid4()),
        username=username,
        email=email,
        password_hash=hash_password(password),
        created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        profile=profile,
    )
    account_records.put_user(user, put_session(session.record) if session else None)
    metrics.add_metric(name="UserRegistrations", unit=MetricUnit.Count, value=1)
    logger.debug("User registered", extra={"user_id": user.user_id})
    return user.user_id


def register(request: RegisterInput) -> Success:
    """POST /api/register: create the account."""
    try:
        user_id = create_account(
            username=request.username,
            email=request.email,
            password=request.password,
            profile={"full_name": request.full_name, "age": request.age, "gender": request.gender},
        )
    except account_records.UsernameTakenError:
        raise ApiError(ErrorCode.USERNAME_EXISTS) from None
    except account_records.EmailTakenError:
        raise ApiError(ErrorCode.EMAIL_EXISTS) from None
    return Success(
        message="User successfully registered!",
        data={
            "user_id": user_id,
            "username": request.username,
            "email": request.email,
            "full_name": request.full_name,
            "age": request.age,
            "gender": request.gender,
        },
    )


def users_register(request: UsersRegisterInput) -> Success:
    """POST /users/register: create the account and answer 201 with a token and the user."""
    fullname = request.fullname
    # The token belongs to a session of the new account, written in its transaction.
    session = start_session(str(uuid.uuid4()), refreshable=False)
    try:
        user_id = create_account(
            email=request.email, password=request.password, profile=fullname, session=session
        )
    except account_records.EmailTakenError:
        raise ApiError(ErrorCode.EMAIL_EXISTS, [EMAIL_TAKEN]) from None
    return Success(
        status=201,
        data={
            "token": issue_access_token(user_id, session.record.session_id),
            "user": {
                "_id": user_id,
                "fullname": fullname,
                "email": request.email,
                "socketId": None,
            },
        },
    )
