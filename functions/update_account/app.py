"""PATCH /api/account: change the caller's full name, age or gender."""

from lockbox.accounts.account_inputs import update_account_input
from lockbox.accounts.profiles import update_account
from lockbox.core.handler import api_handler

lambda_handler = api_handler(update_account_input, update_account)
