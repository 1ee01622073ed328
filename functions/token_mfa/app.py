"""POST /api/token/mfa: a login's second step, a code for the mfa_token of its first."""

from lockbox.core.handler import api_handler
from lockbox.mfa.mfa_calls import token_mfa
from lockbox.mfa.mfa_inputs import token_mfa_input

lambda_handler = api_handler(token_mfa_input, token_mfa)
