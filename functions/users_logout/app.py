"""GET /users/logout: end the caller's session."""

from lockbox.handler import users_handler
from lockbox.session_inputs import session_caller
from lockbox.sessions import users_logout

lambda_handler = users_handler(session_caller, users_logout)
