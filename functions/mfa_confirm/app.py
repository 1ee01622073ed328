"""POST /api/mfa/totp/confirm: the first code turns the second factor on."""

from lockbox.core.handler import api_handler
from lockbox.mfa.mfa_calls import confirm
from lockbox.mfa.mfa_inputs import confirm_input

lambda_handler = api_handler(confirm_input, confirm)
