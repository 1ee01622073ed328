"""Business logic of POST /users/register, the second registration flavour.

Its accounts share the users table (and so email uniqueness) with /api/register but
have no username: they log in at /api/token with their email address.
"""

from __future__ import annotations

from typing import Any

from lockbox import users
from lockbox.account_models import SignupRequest
from lockbox.envelope import Success
from lockbox.errors import ApiError, ErrorCode, FieldProblem
from lockbox.models import parse_request
from lockbox.registration import create_account
from lockbox.tokens import issue_access_token

EMAIL_TAKEN = FieldProblem(field="email", message="Email is already registered")


def register_member(body: dict[str, Any]) -> Success:
    """Create the account and answer 201 with a token and the user."""
    request = parse_request(SignupRequest, body)
    fullname = request.fullname.model_dump(exclude_none=True)
    try:
        user_id = create_account(email=request.email, password=request.password, profile=fullname)
    except users.EmailTakenError:
        raise ApiError(ErrorCode.EMAIL_EXISTS, [EMAIL_TAKEN]) from None
    return Success(
        status=201,
        data={
            "token": issue_access_token(user_id),
            "user": {
                "_id": user_id,
                "fullname": fullname,
                "email": request.email,
                "socketId": None,
            },
        },
    )
