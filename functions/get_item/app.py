"""GET /api/data/{key}: read one of the caller's keys."""

from lockbox.handler import api_handler
from lockbox.item_inputs import key_input
from lockbox.items import get_item

lambda_handler = api_handler(key_input, get_item)
