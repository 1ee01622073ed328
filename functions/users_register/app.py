"""POST /users/register: the /users flavour of registration (201 with token and user)."""

from lockbox.accounts.registration_calls import users_register
from lockbox.accounts.registration_inputs import users_register_input
from lockbox.core.handler import express_handler

lambda_handler = express_handler(users_register_input, users_register)
