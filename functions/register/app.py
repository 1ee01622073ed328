"""POST /api/register: create an account."""

from lockbox.accounts.registration_calls import register
from lockbox.accounts.registration_inputs import register_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(register_input, register)
