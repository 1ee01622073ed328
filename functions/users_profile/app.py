"""GET /users/profile: the caller as the /users front ends' user object."""

from lockbox.accounts.account_inputs import account_input
from lockbox.accounts.profiles import users_profile
from lockbox.core.handler import express_handler

lambda_handler = express_handler(account_input, users_profile)
