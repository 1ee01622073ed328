"""Move email markers written before canonical emails to their canonical key.

Before, a mailbox's marker was `EMAIL#<address, lower-cased>`; now it is
`EMAIL#<canonical form>` (lockbox.accounts.emails.canonical_email). For an ASCII address the two are
the same string, so those markers need nothing. A marker of a Unicode address (a Unicode
domain, a local part with `ß`, a full-width letter, an NFD spelling) may differ: until it is
moved, that account cannot log in by email and its mailbox could be registered again.

    python -m deploy.migrate_email_markers --table <UsersTable name>          # report only
    python -m deploy.migrate_email_markers --table <UsersTable name> --apply  # move them

An operator's tool, run once after deploying: it scans the users table (never done on a
request path), reads each marker's profile for the address as it was sent, and moves each
marker whose key differs in one transaction (the new marker only if absent, the old one only
if it still names that user). Two accounts whose addresses share a canonical form are
reported and left as they are, for the operator to settle. Running it again finds nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lockbox.accounts.emails import canonical_email

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_PREFIX = "EMAIL#"


@dataclass(frozen=True, slots=True)
class Move:
    old_pk: str
    new_pk: str
    user_id: str


@dataclass
class Report:
    moved: list[Move]
    clashes: list[Move]  # the canonical marker already belongs to another account
    unchanged: int = 0


def email_markers(client: DynamoDBClient, table: str) -> Iterator[dict[str, Any]]:
    """Every marker item, page by page."""
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="begins_with(pk, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": _PREFIX}},
        ConsistentRead=True,
    ):
        yield from page.get("Items", [])


def planned_move(client: DynamoDBClient, table: str, marker: dict[str, Any]) -> Move | None:
    """The move this marker needs, or None when it is already under its canonical key."""
    user_id = marker["user_id"]["S"]
    profile = client.get_item(
        TableName=table, Key={"pk": {"S": f"USER#{user_id}"}}, ConsistentRead=True
    ).get("Item")
    address = profile["email"]["S"] if profile else marker["pk"]["S"][len(_PREFIX) :]
    new_pk = _PREFIX + canonical_email(address)
    return None if new_pk == marker["pk"]["S"] else Move(marker["pk"]["S"], new_pk, user_id)


def apply_move(client: DynamoDBClient, table: str, marker: dict[str, Any], move: Move) -> bool:
    """Move one marker atomically; False when the canonical key is another account's."""
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**marker, "pk": {"S": move.new_pk}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": {"pk": {"S": move.old_pk}},
                        "ConditionExpression": "user_id = :user",
                        "ExpressionAttributeValues": {":user": {"S": move.user_id}},
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException:
        return False
    return True


def migrate(client: DynamoDBClient, table: str, *, apply: bool) -> Report:
    report = Report(moved=[], clashes=[])
    for marker in list(email_markers(client, table)):
        move = planned_move(client, table, marker)
        if move is None:
            report.unchanged += 1
        elif not apply or apply_move(client, table, marker, move):
            report.moved.append(move)
        else:
            report.clashes.append(move)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.migrate_email_markers", description=__doc__
    )
    parser.add_argument("--table", required=True, help="the users table's name (a stack output)")
    parser.add_argument("--apply", action="store_true", help="move the markers (default: report)")
    args = parser.parse_args(argv)
    import boto3

    report = migrate(boto3.client("dynamodb"), args.table, apply=args.apply)
    verb = "moved" if args.apply else "to move"
    print(f"{report.unchanged} markers already canonical; {len(report.moved)} {verb}")
    for move in report.moved:
        print(f"  {move.old_pk} -> {move.new_pk} (user {move.user_id})")
    for move in report.clashes:
        print(
            f"  CLASH {move.old_pk} -> {move.new_pk}: taken by another account (user {move.user_id} kept as is)"
        )
    return 1 if report.clashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
