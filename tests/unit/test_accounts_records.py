"""Users table keys and the mapping of transaction cancellations (pure code, no DynamoDB)."""

from __future__ import annotations

import pytest

from lockbox.accounts import account_records


@pytest.mark.parametrize(
    ("login", "pk"),
    [
        ("johndoe", "USERNAME#johndoe"),
        ("JohnDoe", "USERNAME#johndoe"),
        ("john.doe@example.com", "EMAIL#john.doe@example.com"),
        ("John.Doe@Example.COM", "EMAIL#john.doe@example.com"),
    ],
)
def test_login_names_map_to_case_insensitive_markers(login: str, pk: str) -> None:
    """Given a username or an email in any case, the login reads one lower-cased marker."""
    assert account_records.login_pk(login) == pk


def test_profile_key() -> None:
    """Given a user id, its profile item key is USER#<id>."""
    assert account_records.user_pk("u-1") == "USER#u-1"


MARKERS = ["USERNAME#johndoe", "EMAIL#john.doe@example.com"]


@pytest.mark.parametrize(
    ("reasons", "error"),
    [
        (["None", "ConditionalCheckFailed", "None"], account_records.UsernameTakenError),
        (["None", "None", "ConditionalCheckFailed"], account_records.EmailTakenError),
        (
            ["None", "ConditionalCheckFailed", "ConditionalCheckFailed"],
            account_records.UsernameTakenError,
        ),
    ],
)
def test_cancellation_reasons_name_the_clash(reasons: list[str], error: type[Exception]) -> None:
    """Given the reasons of a cancelled registration, the first clashing marker decides."""
    with pytest.raises(error):
        account_records._raise_if_taken(reasons, MARKERS)


@pytest.mark.parametrize(
    "reasons",
    [
        ["None", "None", "None"],
        ["None", "TransactionConflict", "None"],
        ["ConditionalCheckFailed", "None", "None"],  # the profile item, not a marker
        [],
    ],
)
def test_reasons_without_a_marker_clash_raise_nothing(reasons: list[str]) -> None:
    """Given no ConditionalCheckFailed on a marker, nothing is raised here."""
    assert account_records._raise_if_taken(reasons, MARKERS) is None


def test_email_only_account_maps_its_single_marker() -> None:
    """Given an account without username, its one marker is the email."""
    with pytest.raises(account_records.EmailTakenError):
        account_records._raise_if_taken(["None", "ConditionalCheckFailed"], ["EMAIL#a@example.com"])
