"""The activity call's input: GET /api/account/activity's caller and cursor."""

from __future__ import annotations

import re
from typing import NamedTuple

from lockbox.accounts.user_keys import activity_owner
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.proxy import ApiEvent, caller_id, query_parameters
from lockbox.items.cursors import make_cursor, read_cursor

# The cursors of this listing are signed for this "prefix", which no key listing can have
# (a key prefix has no control characters): a key listing's cursor is refused here.
CURSOR_SCOPE = "\x1factivity:"
_POSITION = re.compile(r"([0-9]{1,20}):(.+)")


class ActivityInput(NamedTuple):
    user_id: str
    after: tuple[int, str] | None  # (ordered_at, pk) of the previous page's last event


def activity_cursor(user_id: str, after: tuple[int, str]) -> str:
    """The cursor of the page after the event `after` names."""
    ordered_at, pk = after
    return make_cursor(user_id, CURSOR_SCOPE, f"{CURSOR_SCOPE}{ordered_at}:{pk}")


def _position(cursor: str, user_id: str) -> tuple[int, str] | None:
    last = read_cursor(cursor, user_id, CURSOR_SCOPE)
    match = _POSITION.fullmatch(last.removeprefix(CURSOR_SCOPE)) if last else None
    if match is None or not match.group(2).startswith(f"{activity_owner(user_id)}#"):
        return None
    return int(match.group(1)), match.group(2)


def activity_input(event: ApiEvent) -> ActivityInput:
    """GET /api/account/activity: the caller, then the cursor if any (INVALID_PARAMETER
    unless this API gave it to this caller for this listing)."""
    user_id = caller_id(event)
    cursor = query_parameters(event).get("cursor")
    if cursor is None:
        return ActivityInput(user_id, None)
    after = _position(cursor, user_id)
    if after is None:
        reason = "cursor must be one this API returned for the same user."
        raise ApiError(ErrorCode.INVALID_PARAMETER, [Detail("cursor", reason)])
    return ActivityInput(user_id, after)
