"""POST /api/logout: end the caller's session, or every session of theirs."""

from lockbox.core.handler import api_handler
from lockbox.sessions.session_calls import logout
from lockbox.sessions.session_inputs import logout_input

lambda_handler = api_handler(logout_input, logout)
