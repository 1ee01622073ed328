"""POST /api/mfa/totp/setup: a new TOTP secret to enrol, until a code confirms it."""

from lockbox.core.handler import api_handler
from lockbox.mfa.mfa_calls import setup
from lockbox.mfa.mfa_inputs import setup_input

lambda_handler = api_handler(setup_input, setup)
