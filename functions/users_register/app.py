"""POST /users/register: the /users flavour of registration (201 with token and user)."""

from lockbox.handler import users_handler
from lockbox.registration import users_register
from lockbox.registration_inputs import users_register_input

lambda_handler = users_handler(users_register_input, users_register)
