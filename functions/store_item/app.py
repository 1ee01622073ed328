"""POST /api/data: store a new key for the caller."""

from lockbox.envelope import Success
from lockbox.errors import ErrorCode
from lockbox.events import ApiEvent, caller_id, json_body
from lockbox.handler import api_handler
from lockbox.vault import store_value


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return store_value(caller_id(event), json_body(event, too_complex=ErrorCode.INVALID_VALUE))
