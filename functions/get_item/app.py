"""GET /api/data/{key}: read one of the caller's keys."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import get_item
from lockbox.items.item_inputs import key_input

lambda_handler = api_handler(key_input, get_item)
