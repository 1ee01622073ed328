"""The TOKEN authorizer's Lambda handler with the events/authorizer_*.json files.

A refused token gets an explicit Deny policy over the whole stage (API Gateway's
ACCESS_DENIED response, rendered 401 INVALID_TOKEN by the template), never an exception:
an exception is a failed invocation, which API Gateway answers 500 and the function's
Errors alarm counts. Token-bearing files hold the placeholder {{ACCESS_TOKEN}}, replaced here
by a token minted at test time with the test signing key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from lockbox.core.settings import get_settings
from lockbox_local.events import load_event
from tests.handlers.accounts import register
from tests.handlers.calls import call, handler, with_user
from tests.support import JWT_KEY_ID

PLACEHOLDER = "{{ACCESS_TOKEN}}"
ISSUER, AUDIENCE = "lockbox-api/test", "lockbox-api-clients"
USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
SESSION_ID = "events-session-0000001"
STAGE_WIDE = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/*"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": USER_ID,
        "iat": now,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "sid": SESSION_ID,
        **changes,
    }


KID = {"kid": JWT_KEY_ID}  # the header naming the test signing key


@pytest.fixture
def live_session(aws_tables: Any) -> Any:
    """USER_ID's profile and a live session SESSION_ID of theirs, in moto."""
    table = get_settings().users_table
    aws_tables.put_item(
        TableName=table, Item={"pk": {"S": f"USER#{USER_ID}"}, "user_id": {"S": USER_ID}}
    )
    aws_tables.put_item(
        TableName=table,
        Item={
            "pk": {"S": f"SESSION#{SESSION_ID}"},
            "user_id": {"S": USER_ID},
            "created_at": {"N": str(time.time_ns() // 1000)},
            "expires_at": {"N": str(int(time.time()) + 86400)},
        },
    )
    return aws_tables


# How each token-bearing events/ file's token is minted (from the signing key).
MINTERS: dict[str, Callable[[str], str]] = {
    "authorizer_valid": lambda key: jwt.encode(claims(), key, algorithm="HS256", headers=KID),
    "authorizer_bad_signature": lambda key: jwt.encode(
        claims(), key[::-1] + "-not-the-key", algorithm="HS256", headers=KID
    ),
    "authorizer_alg_none": lambda key: jwt.encode(claims(), None, algorithm="none"),
    "authorizer_expired": lambda key: jwt.encode(
        claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        key,
        algorithm="HS256",
        headers=KID,
    ),
    "authorizer_wrong_issuer": lambda key: jwt.encode(
        claims(iss="https://issuer.example.com"), key, algorithm="HS256", headers=KID
    ),
    "authorizer_wrong_audience": lambda key: jwt.encode(
        claims(aud="someone-else"), key, algorithm="HS256", headers=KID
    ),
}


def authorizer_event(name: str, key: str) -> dict[str, Any]:
    event = load_event(name)
    if name in MINTERS:
        assert PLACEHOLDER in event["authorizationToken"]
        event["authorizationToken"] = event["authorizationToken"].replace(
            PLACEHOLDER, MINTERS[name](key)
        )
    else:
        assert PLACEHOLDER not in str(event.get("authorizationToken"))
    return event


REJECTED_FILES = [
    "authorizer_missing_header",
    "authorizer_empty_header",
    "authorizer_other_scheme",
    "authorizer_bearer_without_token",
    "authorizer_bearer_blank",
    "authorizer_garbage",
    "authorizer_bad_signature",
    "authorizer_alg_none",
    "authorizer_expired",
    "authorizer_wrong_issuer",
    "authorizer_wrong_audience",
]


def deny_of(event: dict[str, Any]) -> dict[str, Any]:
    """The explicit Deny over the stage of the event's method ARN."""
    assert event["methodArn"].startswith(STAGE_WIDE.removesuffix("*"))
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": STAGE_WIDE}
            ],
        },
    }


@pytest.mark.parametrize("name", REJECTED_FILES)
def test_rejected_tokens_get_a_stage_wide_deny(
    lambda_context: Any, jwt_signing_key: str, name: str
) -> None:
    """Given a rejected-token event, the handler answers an explicit Deny over the stage,
    with no user in it, and does not fail."""
    event = authorizer_event(name, jwt_signing_key)

    assert handler("authorizer")(event, lambda_context) == deny_of(event)


def test_missing_header_event_has_no_token_at_all(jwt_signing_key: str) -> None:
    """Given the missing-header file, the event has no authorizationToken key."""
    assert "authorizationToken" not in authorizer_event(
        "authorizer_missing_header", jwt_signing_key
    )


def test_valid_token_gets_a_stage_wide_allow_policy(
    lambda_context: Any, jwt_signing_key: str, live_session: Any
) -> None:
    """Given a valid token for POST /api/data, the policy allows every route of the stage."""
    event = authorizer_event("authorizer_valid", jwt_signing_key)

    result = handler("authorizer")(event, lambda_context)

    assert result["principalId"] == USER_ID
    assert result["context"] == {"user_id": USER_ID, "sid": SESSION_ID}
    assert result["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_WIDE}],
    }


def test_cached_policy_covers_the_routes_the_token_was_not_checked_for(
    lambda_context: Any, jwt_signing_key: str, live_session: Any
) -> None:
    """Given the policy for POST /api/data, its resource covers the other routes."""
    event = authorizer_event("authorizer_valid", jwt_signing_key)
    resource = handler("authorizer")(event, lambda_context)["policyDocument"]["Statement"][0][
        "Resource"
    ]

    for route in ("GET/api/data/notes", "PUT/api/data/other", "DELETE/api/data/x"):
        arn = f"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/{route}"
        assert arn.startswith(resource.removesuffix("*"))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_scheme_is_case_insensitive(
    lambda_context: Any, jwt_signing_key: str, scheme: str, live_session: Any
) -> None:
    """Given 'bearer' or 'BEARER', the token is accepted."""
    event = authorizer_event("authorizer_valid", jwt_signing_key)
    event["authorizationToken"] = event["authorizationToken"].replace("Bearer", scheme, 1)

    context = handler("authorizer")(event, lambda_context)["context"]
    assert context == {"user_id": USER_ID, "sid": SESSION_ID}


def test_token_of_an_ended_session_is_denied(
    lambda_context: Any, jwt_signing_key: str, live_session: Any
) -> None:
    """Given a valid token whose session was ended, an explicit Deny (API Gateway's 401)."""
    live_session.update_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": f"SESSION#{SESSION_ID}"}},
        UpdateExpression="SET ended = :true",
        ExpressionAttributeValues={":true": {"BOOL": True}},
    )
    event = authorizer_event("authorizer_valid", jwt_signing_key)

    assert handler("authorizer")(event, lambda_context) == deny_of(event)


def test_token_of_a_deleted_account_is_denied(
    lambda_context: Any, jwt_signing_key: str, live_session: Any
) -> None:
    """Given a valid token whose user's profile is gone, an explicit Deny."""
    live_session.delete_item(
        TableName=get_settings().users_table, Key={"pk": {"S": f"USER#{USER_ID}"}}
    )
    event = authorizer_event("authorizer_valid", jwt_signing_key)

    assert handler("authorizer")(event, lambda_context) == deny_of(event)


def test_token_from_the_token_endpoint_flows_through_to_the_data_call(
    aws_tables: Any, lambda_context: Any
) -> None:
    """Given a real login, its token passes the authorizer, whose context stores the item."""
    _, registered = register(lambda_context)
    _, issued = call(handler("token"), load_event("token_success"), lambda_context)
    event = load_event("authorizer_valid")
    event["authorizationToken"] = f"Bearer {issued['data']['access_token']}"

    context = handler("authorizer")(event, lambda_context)["context"]
    store_event = with_user(load_event("store_item_success"), context["user_id"])

    assert context["user_id"] == registered["data"]["user_id"]
    assert call(handler("store_item"), store_event, lambda_context)[0] == 200
    owners = {i["user_id"]["S"] for i in aws_tables.scan(TableName="ItemsTable")["Items"]}
    assert owners == {registered["data"]["user_id"]}


def test_authorizer_fails_closed_when_the_key_is_unavailable(
    lambda_context: Any, jwt_signing_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given Secrets Manager unable to give the key, no policy is returned."""
    event = authorizer_event("authorizer_valid", jwt_signing_key)
    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()

    with pytest.raises(Exception):  # noqa: B017, PT011 (a 500 from API Gateway, never Allow)
        handler("authorizer")(event, lambda_context)
