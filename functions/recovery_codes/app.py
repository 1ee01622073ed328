"""POST /api/mfa/recovery-codes: the password and a code replace every recovery code."""

from lockbox.core.handler import api_handler
from lockbox.mfa.mfa_calls import replace_recovery_codes
from lockbox.mfa.mfa_inputs import proof_input

lambda_handler = api_handler(proof_input, replace_recovery_codes)
