"""POST /api/email/verify/send: mail the caller a new verification link."""

from lockbox.accounts.email_calls import send_verification
from lockbox.accounts.email_inputs import send_verification_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(send_verification_input, send_verification)
