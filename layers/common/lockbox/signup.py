"""Business logic of POST /users/register, the second registration flavour.

Its accounts share the users table (and so email uniqueness) with /api/register but
have no username: they log in at /api/token with their email address.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lockbox import users
from lockbox.account_models import SignupRequest
from lockbox.envelope import Success
from lockbox.errors import ApiError, ErrorCode, FieldProblem
from lockbox.models import parse_request
from lockbox.observability import logger, metrics
from lockbox.passwords import hash_password
from lockbox.tokens import issue_access_token

EMAIL_TAKEN = FieldProblem(field="email", message="Email is already registered")


def register_member(body: dict[str, Any]) -> Success:
    """Create the account in one transaction and answer 201 with a token and the user."""
    request = parse_request(SignupRequest, body)
    fullname = request.fullname.model_dump(exclude_none=True)
    user = users.NewUser(
        user_id=str(uuid.uuid4()),
        email=request.email,
        password_hash=hash_password(request.password),
        created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        profile=fullname,
    )
    try:
        users.create_user(user)
    except users.EmailTakenError:
        raise ApiError(ErrorCode.EMAIL_EXISTS, [EMAIL_TAKEN]) from None
    metrics.add_metric(name="UserRegistrations", unit=MetricUnit.Count, value=1)
    logger.info("User registered", extra={"user_id": user.user_id})
    return Success(
        status=201,
        data={
            "token": issue_access_token(user.user_id),
            "user": {
                "_id": user.user_id,
                "fullname": fullname,
                "email": request.email,
                "socketId": None,
            },
        },
    )
