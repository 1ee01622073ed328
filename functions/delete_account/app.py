"""DELETE /api/account: delete the caller's account; its items are purged in the background."""

from lockbox.accounts.account_calls import delete_account
from lockbox.accounts.account_inputs import delete_account_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(delete_account_input, delete_account)
