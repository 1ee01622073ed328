"""GET /users/profile: the caller as the /users front ends' user object."""

from lockbox.account import users_profile
from lockbox.account_inputs import account_input
from lockbox.handler import users_handler

lambda_handler = users_handler(account_input, users_profile)
