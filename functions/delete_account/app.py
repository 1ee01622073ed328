"""DELETE /api/account: delete the caller's account; its items are purged in the background."""

from lockbox.account import delete_account
from lockbox.account_inputs import delete_account_input
from lockbox.handler import api_handler

lambda_handler = api_handler(delete_account_input, delete_account)
