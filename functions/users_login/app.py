"""POST /users/login: the /users flavour of login (a token and the user)."""

from lockbox.core.handler import express_handler
from lockbox.sessions.login_calls import users_login
from lockbox.sessions.login_inputs import users_login_input

lambda_handler = express_handler(users_login_input, users_login)
