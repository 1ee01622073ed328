"""POST /api/token: exchange credentials for an access token."""

from lockbox.handler import api_handler
from lockbox.login import token
from lockbox.login_inputs import token_input

lambda_handler = api_handler(token_input, token)
