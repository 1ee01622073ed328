"""POST /api/email: ask to change the caller's address (confirmed through the new one)."""

from lockbox.accounts.email_calls import change_email
from lockbox.accounts.email_inputs import change_email_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(change_email_input, change_email)
