"""GET /api/account: the caller's profile."""

from lockbox.account import get_account
from lockbox.account_inputs import account_input
from lockbox.handler import api_handler

lambda_handler = api_handler(account_input, get_account)
