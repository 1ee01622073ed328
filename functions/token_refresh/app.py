"""POST /api/token/refresh: rotate a refresh token, issue a new access token."""

from lockbox.handler import api_handler
from lockbox.session_inputs import refresh_input
from lockbox.sessions import token_refresh

lambda_handler = api_handler(refresh_input, token_refresh)
