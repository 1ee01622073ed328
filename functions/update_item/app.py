"""PUT /api/data/{key}: replace the value of one of the caller's keys."""

from lockbox.envelope import Success
from lockbox.errors import ErrorCode
from lockbox.events import ApiEvent, caller_id, json_body, path_key
from lockbox.handler import api_handler
from lockbox.vault import update_value


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return update_value(
        caller_id(event), path_key(event), json_body(event, too_complex=ErrorCode.INVALID_VALUE)
    )
