"""GET /api/data/{key}: read one of the caller's keys."""

from lockbox.envelope import Success
from lockbox.events import ApiEvent, caller_id, path_key
from lockbox.handler import api_handler
from lockbox.vault import read_value


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return read_value(caller_id(event), path_key(event))
