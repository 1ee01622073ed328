"""DELETE /api/data/{key}: delete one of the caller's keys."""

from lockbox.envelope import Success
from lockbox.events import ApiEvent, caller_id, path_key
from lockbox.handler import api_handler
from lockbox.vault import delete_value


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return delete_value(caller_id(event), path_key(event))
