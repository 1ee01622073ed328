"""GET /api/data: list the caller's keys, a page at a time."""

from lockbox.handler import api_handler
from lockbox.item_inputs import list_input
from lockbox.items import list_items

lambda_handler = api_handler(list_input, list_items)
