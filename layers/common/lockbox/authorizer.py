"""The TOKEN authorizer's logic: a bearer JWT in, an IAM policy with the user id out.

It needs no DynamoDB and no boto3: the token's signature and claims are the proof.
"""

from __future__ import annotations

import re
from typing import Any

from lockbox.tokens import InvalidTokenError, verify_access_token

# RFC 6750: the scheme is case-insensitive, the token is token68 text.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]+=*)")


class UnauthorizedError(Exception):
    """Raised to API Gateway, which answers 401 UNAUTHORIZED for exactly this message."""

    def __init__(self, reason: str) -> None:
        super().__init__("Unauthorized")
        self.reason = reason  # for the log line only; never sent to the client


def bearer_token(header: object) -> str:
    match = _BEARER.fullmatch(header) if isinstance(header, str) else None
    if match is None:
        raise UnauthorizedError("NotABearerToken")
    return match.group(1)


def api_wide_resource(method_arn: str) -> str:
    """`arn:...:api-id/stage/*`: the cached policy must allow every route, not just this one."""
    api_and_stage = method_arn.split("/", 2)[:2]
    return "/".join([*api_and_stage, "*"])


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    """The Allow policy for a valid bearer token; UnauthorizedError for anything else."""
    try:
        user_id = verify_access_token(bearer_token(event.get("authorizationToken")))
    except InvalidTokenError as error:
        raise UnauthorizedError(str(error)) from None
    return {
        "principalId": user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": api_wide_resource(event["methodArn"]),
                }
            ],
        },
        "context": {"user_id": user_id},
    }
