"""The one-off move of email markers to their canonical key, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy.migrate_email_markers import migrate
from lockbox_local.template import create_tables

TABLE = "UsersTable"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        create_tables(dynamodb)
        yield dynamodb


def old_account(client: Any, user_id: str, email: str) -> None:
    """An account as registration wrote it before: the marker keyed by email.lower()."""
    client.put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"USER#{user_id}"}, "user_id": {"S": user_id}, "email": {"S": email}},
    )
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"EMAIL#{email.lower()}"},
            "user_id": {"S": user_id},
            "password_hash": {"S": "$2b$04$hash"},
        },
    )


def marker(client: Any, pk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName=TABLE, Key={"pk": {"S": pk}}).get(
        "Item"
    )
    return item


def test_a_unicode_address_moves_to_its_canonical_key(client: Any) -> None:
    """Given an old marker of a Unicode address, --apply moves it with everything it held."""
    old_account(client, "u1", "Stra\u00dfe@B\u00fccher.de")

    report = migrate(client, TABLE, apply=True)

    assert [move.new_pk for move in report.moved] == ["EMAIL#strasse@xn--bcher-kva.de"]
    moved = marker(client, "EMAIL#strasse@xn--bcher-kva.de")
    assert moved is not None
    assert moved["user_id"] == {"S": "u1"}
    assert moved["password_hash"] == {"S": "$2b$04$hash"}
    assert marker(client, "EMAIL#stra\u00dfe@b\u00fccher.de") is None


def test_ascii_addresses_need_nothing(client: Any) -> None:
    """Given old markers of ASCII addresses, nothing moves: their keys are already canonical."""
    old_account(client, "u1", "John.Doe@Example.com")

    report = migrate(client, TABLE, apply=True)

    assert (report.unchanged, report.moved) == (1, [])


def test_without_apply_nothing_is_written(client: Any) -> None:
    """Given the report mode, the move is listed and the table is unchanged."""
    old_account(client, "u1", "m@B\u00fccher.de")

    report = migrate(client, TABLE, apply=False)

    assert len(report.moved) == 1
    assert marker(client, "EMAIL#m@b\u00fccher.de") is not None
    assert marker(client, "EMAIL#m@xn--bcher-kva.de") is None


def test_two_accounts_of_one_mailbox_are_reported_not_merged(client: Any) -> None:
    """Given two old accounts whose addresses share a canonical form, the second move is a
    clash and both markers stay as they are."""
    old_account(client, "u1", "m@xn--bcher-kva.de")
    old_account(client, "u2", "m@b\u00fccher.de")

    report = migrate(client, TABLE, apply=True)

    assert [move.user_id for move in report.clashes] == ["u2"]
    assert marker(client, "EMAIL#m@b\u00fccher.de") is not None
    assert marker(client, "EMAIL#m@xn--bcher-kva.de")["user_id"] == {"S": "u1"}  # type: ignore[index]


def test_a_second_run_finds_nothing_to_move(client: Any) -> None:
    """Given a finished migration, running it again moves nothing."""
    old_account(client, "u1", "m@B\u00fccher.de")
    migrate(client, TABLE, apply=True)

    assert migrate(client, TABLE, apply=True).moved == []
