"""The TOKEN authorizer's logic: a bearer JWT in, an IAM policy with the user id out.

The token's signature and claims prove who it was issued to; its session (`sid`) must
still be alive, which costs one DynamoDB request (lockbox.sessions.session_records.session_is_alive)
per decision API Gateway has not cached. boto3 is imported on that first request, not
when the function starts.
"""

from __future__ import annotations

import re
from typing import Any

from lockbox.signing.tokens import InvalidTokenError, verify_access_claims

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
        claims = verify_access_claims(bearer_token(event.get("authorizationToken")))
    except InvalidTokenError as error:
        raise UnauthorizedError(str(error)) from None
    user_id = claims.user_id
    from lockbox.sessions.session_records import session_is_alive  # boto3: first decision only

    if not session_is_alive(user_id, claims.session_id):
        raise UnauthorizedError("SessionEndedError")
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
        "context": {"user_id": user_id, "sid": claims.session_id},
    }
