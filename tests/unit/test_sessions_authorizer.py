"""The TOKEN authorizer's logic: bearer parsing, the stage-wide policy, the user id context."""

from __future__ import annotations

import pytest

from lockbox.sessions import session_records
from lockbox.sessions.authorizer import (
    UnauthorizedError,
    api_wide_resource,
    authorize,
    bearer_token,
)
from lockbox.signing.tokens import issue_access_token

SESSION_ID = "session-1"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/api/data/notes"
STAGE_WIDE = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/*"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER abc.def.ghi", "abc.def.ghi"),
        ("BeArEr abc.def.ghi", "abc.def.ghi"),
        ("Bearer a-b_c~d+e/f==", "a-b_c~d+e/f=="),
    ],
)
def test_bearer_scheme_is_case_insensitive(header: str, token: str) -> None:
    """Given the Bearer scheme in any case, the token after one space is taken."""
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer ", id="scheme-and-space"),
        pytest.param("Bearer  abc", id="two-spaces"),
        pytest.param("Bearer abc def", id="two-tokens"),
        pytest.param("Basic am9objpzZWNyZXQ=", id="basic"),
        pytest.param("Token abc", id="other-scheme"),
        pytest.param("abc.def.ghi", id="no-scheme"),
        pytest.param("Bearer abc\n", id="trailing-newline"),
        pytest.param("Bearer ab=c", id="padding-inside"),
        pytest.param(["Bearer abc"], id="not-a-string"),
    ],
)
def test_anything_but_one_bearer_token_is_unauthorized(header: object) -> None:
    """Given any header but 'Bearer <token68>', Unauthorized."""
    with pytest.raises(UnauthorizedError) as caught:
        bearer_token(header)

    assert str(caught.value) == "Unauthorized"


def test_unauthorized_text_never_carries_the_reason() -> None:
    """Given a reason, it is kept for the log, and the exception text is only 'Unauthorized'."""
    error = UnauthorizedError("ExpiredSignatureError")

    assert (str(error), error.reason) == ("Unauthorized", "ExpiredSignatureError")


@pytest.mark.parametrize(
    ("method_arn", "expected"),
    [
        (METHOD_ARN, STAGE_WIDE),
        (
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/POST/api/data",
            STAGE_WIDE,
        ),
        (
            "arn:aws:execute-api:eu-west-1:210987654321:zyx987/prod/DELETE/api/data/a%2Fb/c",
            "arn:aws:execute-api:eu-west-1:210987654321:zyx987/prod/*",
        ),
    ],
)
def test_policy_resource_covers_the_whole_stage(method_arn: str, expected: str) -> None:
    """Given any route's method ARN, the policy allows every route of that API stage."""
    assert api_wide_resource(method_arn) == expected


@pytest.fixture
def sessions_alive(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every session is alive (lockbox.sessions.session_records is tested against moto); the
    sessions asked about are recorded."""

    asked: list[tuple[str, str]] = []

    def alive(user_id: str, session_id: str) -> bool:
        asked.append((user_id, session_id))
        return True

    monkeypatch.setattr(session_records, "session_is_alive", alive)
    return asked


def test_valid_token_gives_an_allow_policy_with_the_user_id(
    sessions_alive: list[tuple[str, str]],
) -> None:
    """Given a valid token of a live session, an Allow policy for the stage with user_id
    and sid in the context."""
    token = issue_access_token("user-123", SESSION_ID)

    result = authorize(
        {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
    )

    assert result == {
        "principalId": "user-123",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_WIDE}
            ],
        },
        "context": {"user_id": "user-123", "sid": SESSION_ID},
    }
    assert sessions_alive == [("user-123", SESSION_ID)]


def test_token_of_an_ended_session_is_unauthorized(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a valid token whose session has ended, Unauthorized."""

    monkeypatch.setattr(session_records, "session_is_alive", lambda *_: False)
    token = issue_access_token("user-123", SESSION_ID)

    with pytest.raises(UnauthorizedError) as caught:
        authorize({"authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN})

    assert caught.value.reason == "SessionEndedError"


def test_lowercase_scheme_is_authorized(sessions_alive: list[tuple[str, str]]) -> None:
    """Given 'bearer <token>', the user is authorized."""
    token = issue_access_token("user-123", SESSION_ID)

    result = authorize({"authorizationToken": f"bearer {token}", "methodArn": METHOD_ARN})

    assert result["context"] == {"user_id": "user-123", "sid": SESSION_ID}


def test_invalid_token_is_unauthorized() -> None:
    """Given a well-formed header with a bad token, Unauthorized."""
    with pytest.raises(UnauthorizedError) as caught:
        authorize({"authorizationToken": "Bearer a.b.c", "methodArn": METHOD_ARN})

    assert str(caught.value) == "Unauthorized"
