"""GET /api/data: list the caller's keys, a page at a time."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import list_items
from lockbox.items.item_inputs import list_input

lambda_handler = api_handler(list_input, list_items)
