"""POST /api/token: exchange credentials for an access token."""

from lockbox.envelope import Success
from lockbox.events import ApiEvent, json_body
from lockbox.handler import api_handler
from lockbox.login import issue_token


@api_handler
def lambda_handler(event: ApiEvent) -> Success:
    return issue_token(json_body(event))
