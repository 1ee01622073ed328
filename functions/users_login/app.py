"""POST /users/login: the /users flavour of login (a token and the user)."""

from lockbox.handler import users_handler
from lockbox.login import users_login
from lockbox.login_inputs import users_login_input

lambda_handler = users_handler(users_login_input, users_login)
