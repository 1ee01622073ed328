"""POST /api/email/verify: use a link mailed to an address."""

from lockbox.accounts.email_calls import verify_email
from lockbox.accounts.email_inputs import verify_email_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(verify_email_input, verify_email)
