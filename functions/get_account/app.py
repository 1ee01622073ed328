"""GET /api/account: the caller's profile."""

from lockbox.accounts.account_inputs import account_input
from lockbox.accounts.profiles import get_account
from lockbox.core.handler import api_handler

lambda_handler = api_handler(account_input, get_account)
