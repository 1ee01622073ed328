"""GET /users/logout: end the caller's session."""

from lockbox.core.handler import express_handler
from lockbox.sessions.session_calls import users_logout
from lockbox.sessions.session_inputs import session_caller

lambda_handler = express_handler(session_caller, users_logout)
