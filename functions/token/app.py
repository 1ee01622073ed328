"""POST /api/token: exchange credentials for an access token."""

from lockbox.core.handler import api_handler
from lockbox.sessions.login_calls import token
from lockbox.sessions.login_inputs import token_input

lambda_handler = api_handler(token_input, token)
