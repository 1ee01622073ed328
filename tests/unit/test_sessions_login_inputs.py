"""POST /api/token request rules: username and password present non-blank strings."""

from __future__ import annotations

from typing import Any

import pytest

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.sessions.login_inputs import TOKEN_BODY


def test_username_and_password_are_taken_as_sent() -> None:
    """Given both fields, they are kept exactly (no trimming, no case change)."""
    request = TOKEN_BODY.from_body({"username": "JohnDoe", "password": " p w "})

    assert (request.username, request.password) == ("JohnDoe", " p w ")


def test_unknown_fields_are_ignored() -> None:
    """Given extra fields (role, user_id), they are dropped, not refused."""
    request = TOKEN_BODY.from_body(
        {"username": "johndoe", "password": "secret!!", "grant_type": "password"}
    )

    assert request.username == "johndoe"


@pytest.mark.parametrize(
    ("body", "problem_fields"),
    [
        pytest.param({}, ["username", "password"], id="both-missing"),
        pytest.param({"username": "johndoe"}, ["password"], id="password-missing"),
        pytest.param({"password": "secret!!"}, ["username"], id="username-missing"),
        pytest.param({"username": "", "password": "secret!!"}, ["username"], id="empty-username"),
        pytest.param({"username": "johndoe", "password": ""}, ["password"], id="empty-password"),
        pytest.param({"username": "  ", "password": "x"}, ["username"], id="blank-username"),
        pytest.param({"username": "johndoe", "password": "\t"}, ["password"], id="blank-password"),
        pytest.param({"username": None, "password": None}, ["username", "password"], id="nulls"),
        pytest.param({"username": 42, "password": "x"}, ["username"], id="numeric-username"),
        pytest.param({"username": "j", "password": 12345678}, ["password"], id="numeric-password"),
        pytest.param({"username": ["j"], "password": "x"}, ["username"], id="array-username"),
        pytest.param({"username": "j", "password": {"p": 1}}, ["password"], id="object-password"),
        pytest.param({"username": True, "password": "x"}, ["username"], id="boolean-username"),
        pytest.param({"user": "johndoe", "pass": "secret!!"}, ["username", "password"], id="typo"),
    ],
)
def test_missing_blank_or_non_string_fields_are_missing_fields(
    body: dict[str, Any], problem_fields: list[str]
) -> None:
    """Given a field missing, blank or not a string, then MISSING_FIELDS naming those fields."""
    with pytest.raises(ApiError) as caught:
        TOKEN_BODY.from_body(body)

    assert caught.value.code is ErrorCode.MISSING_FIELDS
    assert [problem.field for problem in caught.value.details] == problem_fields
