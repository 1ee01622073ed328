"""DELETE /api/data/{key}: delete one of the caller's keys."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import delete_item
from lockbox.items.item_inputs import delete_input

lambda_handler = api_handler(delete_input, delete_item)
