"""Data access for the security activity log (SPEC "Security activity").

An event is one item of the users table, `EVENT#<user_id>#<time>#<nonce>`: `event` (its
name), `owner` (activity_owner) and `ordered_at` (Unix microseconds), the keys of the
sparse index that lists a user's events newest first; `session_id`, `user_agent` and
`source_ip` where the request had them; `expires_at`, the table's TTL, 90 days on. Never a
password, a token or a code: nothing here takes one.

An event is a Put added to the transaction of the change it records (`put_event`), so the
change and its record commit together, in the change's own request.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from lockbox.accounts.user_keys import OWNER_INDEX, activity_owner, event_pk
from lockbox.core import dynamodb
from lockbox.core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

KEPT_SECONDS = 90 * 86_400
PAGE_SIZE = 50


class Activity(NamedTuple):
    """An event about to be recorded: its name, and what the request tells of its origin."""

    event: str
    session_id: str | None = None
    user_agent: str | None = None
    source_ip: str | None = None


class RecordedEvent(NamedTuple):
    at: int  # Unix microseconds
    event: str
    session_id: str | None
    user_agent: str | None
    source_ip: str | None


class EventPage(NamedTuple):
    events: list[RecordedEvent]
    last: tuple[int, str] | None  # (ordered_at, pk) of the page's last event, if more follow


def put_event(user_id: str, activity: Activity) -> TransactWriteItemTypeDef:
    """The Put of one event, for the transaction of the change it records."""
    at = time.time_ns() // 1000
    item: dict[str, Any] = {
        "pk": {"S": event_pk(user_id, at, secrets.token_hex(4))},
        "owner": {"S": activity_owner(user_id)},
        "ordered_at": {"N": str(at)},
        "event": {"S": activity.event},
        "expires_at": {"N": str(at // 1_000_000 + KEPT_SECONDS)},
    }
    for name in ("session_id", "user_agent", "source_ip"):
        value = getattr(activity, name)
        if value is not None:
            item[name] = {"S": value}
    return {
        "Put": {
            "TableName": get_settings().users_table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def read_events(user_id: str, after: tuple[int, str] | None) -> EventPage:
    """One page of the user's events, newest first, after the event `after` names: one
    Query of the index, at most PAGE_SIZE events, none past its 90 days."""
    owner = activity_owner(user_id)
    query: dict[str, Any] = {
        "TableName": get_settings().users_table,
        "IndexName": OWNER_INDEX,
        "KeyConditionExpression": "#owner = :owner AND ordered_at > :oldest",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {
            ":owner": {"S": owner},
            ":oldest": {"N": str((int(time.time()) - KEPT_SECONDS) * 1_000_000)},
        },
        "ScanIndexForward": False,
        "Limit": PAGE_SIZE,
    }
    if after is not None:
        ordered_at, pk = after
        query["ExclusiveStartKey"] = {
            "pk": {"S": pk},
            "owner": {"S": owner},
            "ordered_at": {"N": str(ordered_at)},
        }
    response = dynamodb.client().query(**query)
    events = [
        RecordedEvent(
            at=int(item["ordered_at"]["N"]),
            event=item["event"]["S"],
            session_id=item.get("session_id", {}).get("S"),
            user_agent=item.get("user_agent", {}).get("S"),
            source_ip=item.get("source_ip", {}).get("S"),
        )
        for item in response.get("Items", [])
    ]
    last_key = response.get("LastEvaluatedKey")
    last = None
    if last_key:
        last = (int(last_key["ordered_at"]["N"]), last_key["pk"]["S"])
    return EventPage(events, last)
