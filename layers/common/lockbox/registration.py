"""Business logic of POST /api/register."""

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


def register_user(body: dict[str, Any]) -> Success:
    """Validate, then create the account in one transaction."""
    request = parse_request(RegisterRequest, body)
    user = users.NewUser(
        user_id=str(uuid.uuid4()),
        username=request.username,
        email=request.email,
        password_hash=hash_password(request.password),
        created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        profile={"full_name": request.full_name, "age": request.age, "gender": request.gender},
    )
    try:
        users.create_user(user)
    except users.UsernameTakenError:
        raise ApiError(ErrorCode.USERNAME_EXISTS) from None
    except users.EmailTakenError:
        raise ApiError(ErrorCode.EMAIL_EXISTS) from None
    metrics.add_metric(name="UserRegistrations", unit=MetricUnit.Count, value=1)
    logger.info("User registered", extra={"user_id": user.user_id})
    return Success(
        message="User successfully registered!",
        data={
            "user_id": user.user_id,
            "username": request.username,
            "email": request.email,
            "full_name": request.full_name,
            "age": request.age,
            "gender": request.gender,
        },
    )
