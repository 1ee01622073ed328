"""POST /api/password: change the caller's password, ending their other sessions."""

from lockbox.account import change_password
from lockbox.account_inputs import password_input
from lockbox.handler import api_handler

lambda_handler = api_handler(password_input, change_password)
