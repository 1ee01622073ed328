"""DELETE /api/mfa/totp: the password and a code turn the second factor off."""

from lockbox.core.handler import api_handler
from lockbox.mfa.mfa_calls import disable
from lockbox.mfa.mfa_inputs import proof_input

lambda_handler = api_handler(proof_input, disable)
