"""POST /api/token/refresh: rotate a refresh token, issue a new access token."""

from lockbox.core.handler import api_handler
from lockbox.sessions.session_calls import token_refresh
from lockbox.sessions.session_inputs import refresh_input

lambda_handler = api_handler(refresh_input, token_refresh)
