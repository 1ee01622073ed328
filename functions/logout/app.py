"""POST /api/logout: end the caller's session, or every session of theirs."""

from lockbox.handler import api_handler
from lockbox.session_inputs import logout_input
from lockbox.sessions import logout

lambda_handler = api_handler(logout_input, logout)
