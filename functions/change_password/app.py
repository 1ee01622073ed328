"""POST /api/password: change the caller's password, ending their other sessions."""

from lockbox.accounts.account_calls import change_password
from lockbox.accounts.account_inputs import password_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(password_input, change_password)
