"""POST /users/register: the second registration flavour (201 with token and user)."""

from lockbox.envelope import Success
from lockbox.events import ApiEvent, json_body
from lockbox.handler import handler_for
from lockbox.signup import register_member
from lockbox.validator_format import ExpressValidatorFormat


@handler_for(ExpressValidatorFormat())
def lambda_handler(event: ApiEvent) -> Success:
    return register_member(json_body(event))
