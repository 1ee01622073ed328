"""Business logic of POST /api/register, and the account creation both registration calls share."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox import users
from lockbox.account_models import RegisterRequest
from lockbox.envelope import Success
from lockbox.errors import ApiError, ErrorCode
from lockbox.models import parse_request
from lockbox.observability import logger, metrics
from lockbox.passwords import hash_password


def create_account(
    *, email: str, password: str, profile: dict[str, str | int], username: str | None = None
) -> str:
    """Hash the password and write the account in one transaction; its new user id.

    Raises users.UsernameTakenError or users.EmailTakenError, for each call to answer
    in its own format.
    """
    user = users.NewUser(
        user_id=str(uuid.uuid4()),
        username=username,
        email=email,
        password_hash=hash_password(password),
        created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        profile=profile,
    )
    users.create_user(user)
    metrics.add_metric(name="UserRegistrations", unit=MetricUnit.Count, value=1)
    logger.info("User registered", extra={"user_id": user.user_id})
    return user.user_id


def register_user(body: dict[str, Any]) -> Success:
    """Validate, then create the account."""
    request = parse_request(RegisterRequest, body)
    try:
        user_id = create_account(
            username=request.username,
            email=request.email,
            password=request.password,
            profile={"full_name": request.full_name, "age": request.age, "gender": request.gender},
        )
    except users.UsernameTakenError:
        raise ApiError(ErrorCode.USERNAME_EXISTS) from None
    except users.EmailTakenError:
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
