"""POST /api/password/reset: set a new password with a mailed reset link."""

from lockbox.accounts.email_calls import reset_password
from lockbox.accounts.email_inputs import reset_password_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(reset_password_input, reset_password)
