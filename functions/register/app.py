"""POST /api/register: create an account."""

from lockbox.envelope import Success
from lockbox.events import ApiEvent, json_body
from lockbox.handler import api_handler
from lockbox.registration import register_user


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return register_user(json_body(event))
