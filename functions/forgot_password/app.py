"""POST /api/password/forgot: ask for a reset link (the same answer for any address)."""

from lockbox.accounts.email_calls import forgot_password
from lockbox.accounts.email_inputs import forgot_password_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(forgot_password_input, forgot_password)
