"""Business logic of the activity call, GET /api/account/activity."""

from __future__ import annotations

from datetime import UTC, datetime

from lockbox.activity import activity_records
from lockbox.activity.activity_inputs import ActivityInput, activity_cursor
from lockbox.core.responses import Success


def iso_time(microseconds: int) -> str:
    """A stored time (Unix microseconds) as the contract's ISO 8601 UTC."""
    moment = datetime.fromtimestamp(microseconds / 1_000_000, UTC)
    return moment.isoformat(timespec="milliseconds")


def list_activity(request: ActivityInput) -> Success:
    """GET /api/account/activity: one page of the caller's events, newest first, and the
    cursor of the next (null on the last page)."""
    page = activity_records.read_events(request.user_id, request.after)
    events = [
        {
            "at": iso_time(event.at),
            "event": event.event,
            "session_id": event.session_id,
            "user_agent": event.user_agent,
            "source_ip": event.source_ip,
        }
        for event in page.events
    ]
    cursor = activity_cursor(request.user_id, page.last) if page.last else None
    return Success(data={"events": events, "cursor": cursor})
