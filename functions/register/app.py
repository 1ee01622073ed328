"""POST /api/register: create an account."""

from lockbox.handler import api_handler
from lockbox.registration import register
from lockbox.registration_inputs import register_input

lambda_handler = api_handler(register_input, register)
