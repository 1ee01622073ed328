"""The TOKEN authorizer's logic: a bearer JWT in, an IAM policy with the user id out.

A refused token gets an explicit Deny policy, never an exception: an exception is a
failed invocation (the function's Errors alarm, and API Gateway's 500), while a Deny is
API Gateway's ACCESS_DENIED response, which the template renders as 401 INVALID_TOKEN.

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
    """A refused token; the handler answers it with `deny_policy`."""

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


def deny_policy(method_arn: str) -> dict[str, Any]:
    """The explicit Deny of a refused token. It covers the whole stage, as the Allow does:
    API Gateway caches either for the token, and every refusal is final for that token
    (a bad signature, a past expiry, an ended session or a deleted account never heal).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
    """
    return {
        "principalId": "anonymous",  # no user: the token proved nothing
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny",
                    "Resource": api_wide_resource(method_arn),
                }
            ],
        },
    }


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
